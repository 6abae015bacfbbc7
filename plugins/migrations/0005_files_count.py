from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_existing_files(apps, schema_editor):
    PluginInstance = apps.get_model("plugins", "PluginInstance")
    PluginInstanceFile = apps.get_model("plugins", "PluginInstanceFile")
    counts = (
        PluginInstanceFile.objects.filter(plugin_inst=OuterRef("pk"))
        .values("plugin_inst")
        .annotate(total=Count("*"))
        .values("total")
    )
    PluginInstance.objects.update(files_count=Coalesce(Subquery(counts), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("plugins", "0004_covering_fname_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="plugininstance",
            name="files_count",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(count_existing_files, migrations.RunPython.noop),
    ]
