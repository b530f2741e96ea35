from django.db import models


class SiteKind(models.TextChoices):
    PAD = "pad", "Well pad"
    PLATFORM = "platform", "Platform"
    STATION = "station", "Gathering / compression station"
    RIG_SITE = "rig_site", "Rig site"


class WellType(models.TextChoices):
    PRODUCER = "producer", "Producer"
    INJECTOR = "injector", "Injector"
    DISPOSAL = "disposal", "Disposal"
    OBSERVATION = "observation", "Observation"


class WellStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DRILLING = "drilling", "Drilling"
    COMPLETING = "completing", "Completing"
    PRODUCING = "producing", "Producing"
    INJECTING = "injecting", "Injecting"
    SHUT_IN = "shut_in", "Shut in"
    SUSPENDED = "suspended", "Suspended"
    ABANDONED = "abandoned", "Plugged and abandoned"


class DatumType(models.TextChoices):
    RKB = "RKB", "Rotary kelly bushing"
    DF = "DF", "Drill floor"
    GL = "GL", "Ground level"
    MSL = "MSL", "Mean sea level"
    CHF = "CHF", "Casing head flange"


class WellboreStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DRILLING = "drilling", "Drilling"
    ACTIVE = "active", "Active"
    PLUGGED = "plugged", "Plugged back"
    ABANDONED = "abandoned", "Abandoned"


class RestrictionKind(models.TextChoices):
    NIPPLE = "nipple", "Landing nipple"
    NO_GO_NIPPLE = "no_go_nipple", "No-go nipple"
    SSSV = "sssv", "Subsurface safety valve"
    SLIDING_SLEEVE = "sliding_sleeve", "Sliding sleeve"
    PACKER = "packer", "Packer"
    GAS_LIFT_MANDREL = "gas_lift_mandrel", "Gas-lift mandrel"
    WIRELINE_ENTRY_GUIDE = "wleg", "Wireline entry guide"
    OTHER = "other", "Other restriction"


class PvtSampleKind(models.TextChoices):
    BOTTOMHOLE = "bottomhole", "Bottom-hole sample"
    SEPARATOR = "separator", "Separator (recombined) sample"
    WELLHEAD = "wellhead", "Wellhead sample"


class FluidType(models.TextChoices):
    BLACK_OIL = "black_oil", "Black oil"
    VOLATILE_OIL = "volatile_oil", "Volatile oil"
    GAS_CONDENSATE = "gas_condensate", "Gas condensate"
    WET_GAS = "wet_gas", "Wet gas"
    DRY_GAS = "dry_gas", "Dry gas"


class AzimuthReference(models.TextChoices):
    TRUE = "true", "True north"
    GRID = "grid", "Grid north"
    MAGNETIC = "magnetic", "Magnetic north"
