"""A BRIN index on telemetry_reading.ts (PostgreSQL only): a few pages that let range scans on time
(rollups, retention deletes) skip everything outside the range. SQLite gets nothing."""

from django.db import migrations


def create_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS telemetry_reading_ts_brin ON telemetry_reading "
            "USING brin (ts) WITH (pages_per_range = 32)"
        )


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS telemetry_reading_ts_brin")


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]

    operations = [migrations.RunPython(create_brin, drop_brin)]
