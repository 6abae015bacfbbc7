"""Admin pages for plugins, compute resources and users; every write goes through services.

Plugins are registered from a JSON description or from a ChRIS store, never typed in field by
field. Compute resources are saved by the same service as ``add_compute_resource``, which
asks the compute service how it stages data; their password is write-only. Plugin instances
are records of jobs and only ever shown. A user added here is signed up as the API does it.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.shortcuts import redirect
from rest_framework.exceptions import ValidationError as ApiValidationError

from adminapi import services as admin_services
from cube.admin import ReadOnlyAdmin, admin_link, api_link
from plugins.models import ComputeResource, Plugin, PluginInstance, PluginMeta, PluginParameter
from plugins.services.registry import register_plugin, save_compute_resource
from users import services as users_services

URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


def https_urls(field: models.Field, **kwargs) -> forms.Field:
    """Form fields of a model, with URLs that default to https."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


def messages_of(error: ApiValidationError) -> list[str]:
    """The readable messages of a service's validation error, whatever its shape."""
    detail = error.detail
    if isinstance(detail, dict):
        return [str(message) for messages_ in detail.values() for message in _as_list(messages_)]
    return [str(message) for message in _as_list(detail)]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


class ComputeResourceForm(forms.ModelForm):
    """Saved by the registration service; the password is written, never shown."""

    compute_password = forms.CharField(
        label="Compute password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: it is never shown. Leave it empty to keep the current one.",
    )

    class Meta:
        model = ComputeResource
        formfield_callback = https_urls
        fields = (
            "name", "compute_url", "compute_auth_url", "compute_user", "compute_password",
            "description", "max_job_exec_seconds",
        )  # fmt: skip
        help_texts = {
            "compute_url": "The compute service's API URL, ending in /api/v1/.",
            "compute_auth_url": "Empty for <compute URL>auth-token/.",
        }

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        creating = self.instance.pk is None
        name = data["name"] if creating else self.instance.name
        password = data.get("compute_password") or self.instance.compute_password
        if creating and ComputeResource.objects.filter(name=name).exists():
            self.add_error("name", "A compute resource with this name already exists.")
        if not password:
            self.add_error("compute_password", "This field is required.")
        if self.errors:
            return data
        # Saved while validating, so that a compute service that does not answer is an error
        # on the form; the admin's transaction undoes it if anything later fails.
        try:
            self.saved = save_compute_resource(
                name=name,
                compute_url=data["compute_url"],
                compute_user=data["compute_user"],
                compute_password=password,
                compute_auth_url=data.get("compute_auth_url") or "",
                description=data.get("description") or "",
                max_job_exec_seconds=data["max_job_exec_seconds"],
            )
        except ApiValidationError as error:
            raise forms.ValidationError(messages_of(error)) from error
        return data

    def _post_clean(self) -> None:
        # The service has written the row: the form's copy is not validated again.
        if hasattr(self, "saved"):
            self.instance = self.saved
        else:
            super()._post_clean()


@admin.register(ComputeResource)
class ComputeResourceAdmin(admin.ModelAdmin):
    form = ComputeResourceForm
    formfield_overrides = URL_FIELDS
    list_display = ("name", "compute_url", "compute_innetwork", "plugin_count", "description")
    search_fields = ("name", "description")
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(plugin_total=Count("plugins"))

    @admin.display(description="plugins", ordering="plugin_total")
    def plugin_count(self, obj: ComputeResource) -> int:
        return obj.plugin_total

    def get_readonly_fields(self, request, obj=None):
        learned = ("compute_innetwork", "compute_requires_copy_job", "compute_requires_upload_job")
        if obj is None:
            return ()
        return ("name", *learned, "creation_date", "modification_date")

    def save_model(self, request, obj, form, change) -> None:
        """Nothing left to do: the form saved it through the service."""

    def delete_model(self, request, obj: ComputeResource) -> None:
        try:
            admin_services.delete_compute_resource(obj)
        except ApiValidationError as error:
            # Keeps the admin's "deleted successfully" message from showing.
            messages.set_level(request, messages.ERROR)
            for message in messages_of(error):
                messages.error(request, message)


class PluginRegistrationForm(forms.Form):
    """A plugin to register: its JSON description, or its name in a ChRIS store."""

    compute_resources = forms.ModelMultipleChoiceField(
        queryset=ComputeResource.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Where the plugin may run.",
    )
    descriptor_file = forms.FileField(
        label="JSON description",
        required=False,
        help_text="The plugin's JSON representation, as printed by chris_plugin_info or by "
        "a plugin's --json flag.",
    )
    name = forms.CharField(label="Name", max_length=100, required=False)
    version = forms.CharField(
        label="Version", max_length=10, required=False, help_text="Empty for the newest."
    )
    store_url = forms.URLField(
        label="ChRIS store URL",
        required=False,
        assume_scheme="https",
        help_text="The store's API root, such as https://chrisstore.co/api/v1/.",
    )

    def clean(self) -> dict:
        data = super().clean()
        upload, name = data.get("descriptor_file"), data.get("name")
        if upload and name:
            raise forms.ValidationError("Give either a JSON description or a name, not both.")
        if upload:
            try:
                self.descriptor = json.loads(upload.read())
            except (UnicodeDecodeError, ValueError):
                self.add_error("descriptor_file", "This is not a JSON file.")
                return data
            if not isinstance(self.descriptor, dict):
                self.add_error("descriptor_file", "The JSON file must hold one plugin.")
        elif name:
            if not data.get("store_url"):
                self.add_error("store_url", "Give the store to find the plugin in.")
                return data
            try:
                self.descriptor = admin_services.find_store_descriptor(
                    data["store_url"], name=name, version=data.get("version") or ""
                )
            except ApiValidationError as error:
                self.add_error("store_url", messages_of(error))
        elif "descriptor_file" not in self.errors:
            raise forms.ValidationError(
                "Upload the plugin's JSON description, or give its name and ChRIS store."
            )
        return data


REGISTRATION_FIELDSETS = (
    (None, {"fields": ("compute_resources",)}),
    ("From a JSON description", {"fields": ("descriptor_file",)}),
    ("Or from a ChRIS store", {"fields": ("name", "version", "store_url")}),
)


class PluginParameterInline(admin.TabularInline):
    model = PluginParameter
    fields = ("name", "type", "optional", "default", "flag", "short_flag", "action", "help")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PluginComputeForm(forms.ModelForm):
    class Meta:
        model = Plugin
        fields = ("compute_resources",)
        widgets = {"compute_resources": forms.CheckboxSelectMultiple}


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    form = PluginComputeForm
    list_display = ("meta", "version", "plugin_type", "dock_image", "computes", "creation_date")
    list_filter = ("meta__type", "compute_resources")
    list_select_related = ("meta",)
    search_fields = ("meta__name", "dock_image")
    readonly_fields = (
        "meta", "version", "plugin_type", "dock_image", "description", "execshell", "selfpath",
        "selfexec", "min_number_of_workers", "max_number_of_workers", "min_cpu_limit",
        "max_cpu_limit", "min_memory_limit", "max_memory_limit", "min_gpu_limit",
        "max_gpu_limit", "creation_date", "api",
    )  # fmt: skip
    fields = ("compute_resources", *readonly_fields)
    inlines = (PluginParameterInline,)
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("compute_resources")

    @admin.display(description="type", ordering="meta__type")
    def plugin_type(self, obj: Plugin) -> str:
        return obj.meta.type

    @admin.display(description="compute resources")
    def computes(self, obj: Plugin) -> str:
        return ", ".join(resource.name for resource in obj.compute_resources.all())

    @admin.display(description="API")
    def api(self, obj: Plugin) -> str:
        return api_link("plugin-detail", obj.pk)

    def add_view(self, request, form_url="", extra_context=None):
        """Register a plugin: the add page is a registration form, not the model's fields."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PluginRegistrationForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            names = [resource.name for resource in form.cleaned_data["compute_resources"]]
            try:
                plugin = register_plugin(form.descriptor, compute_names=names)
            except ApiValidationError as error:
                form.add_error(None, messages_of(error))
            else:
                self.log_addition(request, plugin, [{"added": {}}])
                self.message_user(
                    request,
                    f"Registered {plugin.meta.name} {plugin.version} on {', '.join(names)}.",
                    messages.SUCCESS,
                )
                return redirect("admin:plugins_plugin_change", plugin.pk)
        adminform = helpers.AdminForm(form, REGISTRATION_FIELDSETS, {})
        context = {
            **self.admin_site.each_context(request),
            "title": "Register a plugin",
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def save_model(self, request, obj, form, change) -> None:
        """Only the compute resources change, in save_related."""

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:  # view-only parameters: saves nothing
            self.save_formset(request, form, formset, change=change)
        names = [resource.name for resource in form.cleaned_data["compute_resources"]]
        admin_services.set_plugin_compute_resources(form.instance, compute_names=names)

    def delete_model(self, request, obj: Plugin) -> None:
        admin_services.delete_plugin(obj)

    def delete_queryset(self, request, queryset) -> None:
        for plugin in queryset:
            admin_services.delete_plugin(plugin)


class PluginInline(admin.TabularInline):
    model = Plugin
    fields = ("version", "dock_image", "creation_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PluginMeta)
class PluginMetaAdmin(ReadOnlyAdmin):
    list_display = ("name", "type", "category", "authors", "creation_date")
    list_filter = ("type",)
    search_fields = ("name", "title", "category")
    inlines = (PluginInline,)


@admin.register(PluginInstance)
class PluginInstanceAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "title_or_name", "plugin", "status", "owner", "feed_link", "start_date", "end_date",
    )  # fmt: skip
    list_filter = ("status", "plugin__meta__type")
    list_select_related = ("plugin__meta", "owner", "feed")
    search_fields = ("title", "owner__username", "plugin__meta__name")
    fields = (
        "title", "plugin", "status", "owner", "feed_link", "previous_link", "compute_resource",
        "start_date", "end_date", "output_path", "size", "error_code", "summary", "api",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="title", ordering="title")
    def title_or_name(self, obj: PluginInstance) -> str:
        return obj.title or obj.plugin.meta.name

    @admin.display(description="feed", ordering="feed")
    def feed_link(self, obj: PluginInstance) -> str:
        return admin_link(obj.feed, f"{obj.feed_id}: {obj.feed.name}")

    @admin.display(description="previous")
    def previous_link(self, obj: PluginInstance) -> str:
        return admin_link(obj.previous)

    @admin.display(description="API")
    def api(self, obj: PluginInstance) -> str:
        return api_link("plugininstance-detail", obj.pk)


class UserSignUpForm(UserCreationForm):
    """A new account as the API's sign-up makes it: username, email and password."""

    email = forms.EmailField(required=True)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserAdmin(DjangoUserAdmin):
    """Django's user pages, but a new user is signed up by the users service."""

    add_form = UserSignUpForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            user = users_services.create_user(
                username=obj.username, email=obj.email, password=form.cleaned_data["password1"]
            )
        except ApiValidationError as error:  # a sign-up racing this one for the name
            raise PermissionDenied("; ".join(messages_of(error))) from error
        obj.pk, obj.password = user.pk, user.password
        obj._state.adding, obj._state.db = False, user._state.db
