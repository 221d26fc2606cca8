from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="locked_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Claimed by a relay until then; a crashed relay's rows are retaken after.",
                null=True,
            ),
        ),
        migrations.RemoveIndex(
            model_name="outboxmessage",
            name="outbox_pending_idx",
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("dead_at__isnull", True), ("sent_at__isnull", True)),
                fields=["created_at"],
                name="outbox_unsent_idx",
            ),
        ),
    ]
