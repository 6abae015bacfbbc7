"""Shared pieces of the admin site (titled in cube/urls.py); each app registers its pages."""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write: shown, never added, edited or deleted here."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def admin_link(obj, label: str | None = None) -> str:
    """An HTML link to an object's admin page, or a dash."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def api_link(url_name: str, pk: int) -> str:
    """An HTML link to an object's API URL, shown in full."""
    url = reverse(url_name, kwargs={"pk": pk})
    return format_html('<a href="{}">{}</a>', url, url)
