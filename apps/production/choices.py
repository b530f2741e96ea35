from django.db import models


class MeterKind(models.TextChoices):
    FISCAL = "fiscal", "Fiscal (custody transfer)"
    ALLOCATION = "allocation", "Allocation"


class Phase(models.TextChoices):
    OIL = "oil", "Oil"
    GAS = "gas", "Gas"
    WATER = "water", "Water"


class DowntimeReason(models.TextChoices):
    NONE = "", "—"
    PLANNED_MAINTENANCE = "planned_maintenance", "Planned maintenance"
    EQUIPMENT_FAILURE = "equipment_failure", "Equipment failure"
    ARTIFICIAL_LIFT = "artificial_lift", "Artificial-lift failure"
    WELL_INTERVENTION = "well_intervention", "Well intervention"
    FACILITY_CONSTRAINT = "facility_constraint", "Facility / export constraint"
    RESERVOIR = "reservoir", "Reservoir management"
    WEATHER = "weather", "Weather"
    POWER = "power", "Power outage"
    OTHER = "other", "Other"


class WellTestStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    VALIDATED = "validated", "Validated"
    REJECTED = "rejected", "Rejected"


class AllocationLineStatus(models.TextChoices):
    ALLOCATED = "allocated", "Allocated"
    SHUT_IN = "shut_in", "Shut in (no hours on)"
    NO_VALID_TEST = "no_valid_test", "No validated well test"
    NO_DAILY_RECORD = "no_daily_record", "No daily production record"


class UnitSystem(models.TextChoices):
    FIELD = "field", "Field (bbl/d, Mscf/d, psi, °F)"
    METRIC = "metric", "Metric (m³/d, kPa, °C)"
