"""PostgreSQL: outbox pages keep half their room free, so the relay's claim (it sets `locked_until`, in no index)
is a HOT update, written beside the row without touching the indexes."""

from django.db import migrations


def half_full(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE events_outboxmessage SET (fillfactor = 50)")


def full(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE events_outboxmessage RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("events", "0005_outbox_fewer_indexes")]

    operations = [migrations.RunPython(half_full, full)]
