"""The IADC daily drilling report activity codes (1-21) with common subcodes."""

from django.db import migrations

CODES = [
    ("1", "", "Rig up and tear down", True),
    ("2", "", "Drilling actual", True),
    ("2", "A", "Drilling - rotary", True),
    ("2", "B", "Drilling - sliding (motor)", True),
    ("3", "", "Reaming", True),
    ("4", "", "Coring", True),
    ("5", "", "Condition mud and circulate", True),
    ("6", "", "Trips", True),
    ("6", "A", "Trip in hole", True),
    ("6", "B", "Trip out of hole", True),
    ("6", "C", "Short trip / wiper trip", True),
    ("7", "", "Lubricate rig", True),
    ("8", "", "Repair rig", False),
    ("9", "", "Cut off drilling line", True),
    ("10", "", "Deviation survey", True),
    ("11", "", "Wireline logs", True),
    ("12", "", "Run casing and cement", True),
    ("12", "A", "Run casing", True),
    ("12", "B", "Cement casing", True),
    ("13", "", "Wait on cement", True),
    ("14", "", "Nipple up BOP", True),
    ("15", "", "Test BOP", True),
    ("16", "", "Drill stem test", True),
    ("17", "", "Plug back", True),
    ("18", "", "Squeeze cement", True),
    ("19", "", "Fishing", False),
    ("20", "", "Directional work", True),
    ("21", "", "Other", True),
]


def load(apps, schema_editor):
    IadcActivity = apps.get_model("drilling", "IadcActivity")
    for code, subcode, description, productive in CODES:
        IadcActivity.objects.update_or_create(code=code, subcode=subcode,
                                              defaults={"description": description, "productive": productive})


def unload(apps, schema_editor):
    IadcActivity = apps.get_model("drilling", "IadcActivity")
    for code, subcode, _d, _p in CODES:
        IadcActivity.objects.filter(code=code, subcode=subcode).delete()


class Migration(migrations.Migration):
    dependencies = [("drilling", "0002_bitrecord_bharun_drillingreport_iadcactivity_and_more")]
    operations = [migrations.RunPython(load, unload)]
