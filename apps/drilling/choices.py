from django.db import models


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"


class ResponsibleParty(models.TextChoices):
    CONTRACTOR = "contractor", "Drilling contractor"
    OPERATOR = "operator", "Operator"
    THIRD_PARTY = "third_party", "Named third party"


class NptCategory(models.TextChoices):
    RIG_EQUIPMENT = "rig_equipment", "Rig equipment failure"
    DOWNHOLE_EQUIPMENT = "downhole_equipment", "Downhole equipment failure"
    WELLBORE = "wellbore", "Wellbore problem (stuck pipe, losses, kick)"
    WAITING = "waiting", "Waiting (weather, orders, materials)"
    SERVICE = "service", "Service company"
    OTHER = "other", "Other"


class BhaComponentType(models.TextChoices):
    BIT = "bit", "Bit"
    MOTOR = "motor", "Mud motor"
    RSS = "rss", "Rotary steerable"
    MWD = "mwd", "MWD / LWD"
    STABILIZER = "stabilizer", "Stabilizer"
    REAMER = "reamer", "Reamer"
    DRILL_COLLAR = "drill_collar", "Drill collar"
    JAR = "jar", "Drilling jar"
    ACCELERATOR = "accelerator", "Accelerator"
    HWDP = "hwdp", "Heavy-weight drill pipe"
    CROSSOVER = "crossover", "Crossover sub"
    FLOAT_SUB = "float_sub", "Float sub"
    OTHER = "other", "Other"


HOUR_TRACKED = (BhaComponentType.MOTOR, BhaComponentType.JAR)


class MudType(models.TextChoices):
    WATER_BASED = "wbm", "Water-based"
    OIL_BASED = "obm", "Oil-based"
    SYNTHETIC = "sbm", "Synthetic-based"
    BRINE = "brine", "Brine / completion fluid"
    AIR = "air", "Air / foam"
