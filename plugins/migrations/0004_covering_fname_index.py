from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0001_initial"),
        ("plugins", "0003_claimed_until"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="plugininstancefile",
            index=models.Index(fields=["feed", "-fname", "id"], name="file_feed_fname_id"),
        ),
        migrations.RemoveIndex(model_name="plugininstancefile", name="file_feed_fname"),
    ]
