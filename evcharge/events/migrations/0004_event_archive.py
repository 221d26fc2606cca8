import django.utils.timezone
from django.db import migrations, models

# On PostgreSQL the archive is partitioned by month of created_at (partitions are made as events arrive, see
# evcharge/events/archive.py; the default partition only catches what arrives before its month's partition).
POSTGRES_TABLE = """
CREATE TABLE events_archivedevent (
    id uuid NOT NULL,
    type varchar(100) NOT NULL,
    envelope jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone NULL,
    archived_at timestamp with time zone NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE events_archivedevent_default PARTITION OF events_archivedevent DEFAULT;
CREATE INDEX archive_type_time_idx ON events_archivedevent (type, created_at);
"""


def create_table(apps, schema_editor):
    model = apps.get_model("events", "ArchivedEvent")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_TABLE)
    else:
        schema_editor.create_model(model)


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("events", "ArchivedEvent"))


ARCHIVED_EVENT = migrations.CreateModel(
    name="ArchivedEvent",
    fields=[
        (
            "pk",
            models.CompositePrimaryKey(
                "id", "created_at", blank=True, editable=False, primary_key=True, serialize=False
            ),
        ),
        ("id", models.UUIDField()),
        ("type", models.CharField(max_length=100)),
        ("envelope", models.JSONField()),
        (
            "created_at",
            models.DateTimeField(help_text="When the event was published (its outbox row was written)."),
        ),
        ("sent_at", models.DateTimeField(null=True)),
        ("archived_at", models.DateTimeField(default=django.utils.timezone.now)),
    ],
    options={
        "ordering": ["created_at", "id"],
        "indexes": [models.Index(fields=["type", "created_at"], name="archive_type_time_idx")],
    },
)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_queue_binding"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[ARCHIVED_EVENT]),
        migrations.RunPython(create_table, drop_table),
    ]
