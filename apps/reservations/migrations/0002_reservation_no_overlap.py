"""PostgreSQL only: no two confirmed reservations of one connector overlap in time.

An exclusion constraint (btree_gist for the `=` on the UUID): concurrent inserts cannot both win.
SQLite has no such constraint; there the reservation service's check, inside a write transaction
(SQLite serialises writers), does the same job.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE reservations_reservation
    ADD CONSTRAINT reservation_no_overlap
    EXCLUDE USING gist (connector_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status = 'confirmed');
"""
DROP = "ALTER TABLE reservations_reservation DROP CONSTRAINT IF EXISTS reservation_no_overlap;"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
