"""Room on each page of the applied-versions table for updates in place.

Every applied event rewrites its record's version row (origin, sequence, applied_at: in no index). With the default
fillfactor (100) the new row version lands on another page and both indexes get an entry; with 70 % fill the update
is HOT (heap-only: same page, no index write), the hub's second most frequent write.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sync_aggregateversion SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sync_aggregateversion RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_uuid7_ids")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
