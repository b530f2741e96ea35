"""Give every IADC activity code the same primary key on every box (edge and hub).

The codes were loaded by 0003 with random UUIDs, so a time-log row synced from an edge pointed at an id the hub does
not have. Each code is re-keyed to ``uuid5(IADC_NAMESPACE, "<code>/<subcode>")`` and the time-log rows follow it
(the foreign key is checked at commit, so both updates land together). Any later migration that adds a code must use
the same function.
"""

import uuid

from django.db import migrations

IADC_NAMESPACE = uuid.UUID("5b0f3c1e-8d1a-4c53-9a43-1adc00000000")


def iadc_id(code: str, subcode: str) -> uuid.UUID:
    return uuid.uuid5(IADC_NAMESPACE, f"{code}/{subcode}")


def rekey(apps, schema_editor):
    IadcActivity = apps.get_model("drilling", "IadcActivity")
    TimeLogRow = apps.get_model("drilling", "TimeLogRow")
    for old, code, subcode in list(IadcActivity.objects.values_list("pk", "code", "subcode")):
        new = iadc_id(code, subcode)
        if old == new:
            continue
        IadcActivity.objects.filter(pk=old).update(id=new)
        TimeLogRow.objects.filter(activity_id=old).update(activity_id=new)


class Migration(migrations.Migration):
    dependencies = [("drilling", "0003_iadc_codes")]
    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
