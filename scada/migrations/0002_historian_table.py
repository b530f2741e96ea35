"""The historian table, shaped for the database found at migrate time (scada.historian.create_schema):
a TimescaleDB hypertable with compression, retention and continuous aggregates; PostgreSQL daily range
partitions; or a plain indexed SQLite table. Not atomic: some TimescaleDB statements refuse a transaction block."""

from django.db import migrations


def forwards(apps, schema_editor):
    from scada import historian

    historian.create_schema(schema_editor.connection)


def backwards(apps, schema_editor):
    from scada import historian

    historian.drop_schema(schema_editor.connection)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("scada", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
