from django.db import models


class EquipmentClass(models.TextChoices):
    """ISO 14224 equipment classes most common at a wellsite."""

    PUMP = "pump", "Pump"
    ESP = "esp", "Electric submersible pump"
    COMPRESSOR = "compressor", "Compressor"
    SEPARATOR = "separator", "Separator / vessel"
    TANK = "tank", "Storage tank"
    VALVE = "valve", "Valve"
    WELLHEAD = "wellhead", "Wellhead and X-mas tree"
    MOTOR = "motor", "Electric motor"
    ENGINE = "engine", "Combustion engine"
    GENERATOR = "generator", "Generator"
    HEAT_EXCHANGER = "heat_exchanger", "Heat exchanger"
    INSTRUMENT = "instrument", "Instrument / transmitter"
    PIPELINE = "pipeline", "Flowline / pipeline"
    OTHER = "other", "Other"


class TaxonomyLevel(models.TextChoices):
    """ISO 14224 taxonomy levels 5-8 (installation levels above are Field/Site)."""

    SYSTEM = "system", "System (level 5)"
    UNIT = "unit", "Equipment unit (level 6)"
    SUBUNIT = "subunit", "Subunit (level 7)"
    MAINTAINABLE_ITEM = "item", "Maintainable item (level 8)"


class Criticality(models.TextChoices):
    HIGH = "A", "A - high (safety, production or environment)"
    MEDIUM = "B", "B - medium"
    LOW = "C", "C - low"


class WorkOrderKind(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class Priority(models.TextChoices):
    EMERGENCY = "1", "1 - Emergency"
    HIGH = "2", "2 - High"
    MEDIUM = "3", "3 - Medium"
    LOW = "4", "4 - Low"


class WorkOrderStatus(models.TextChoices):
    OPEN = "open", "Open"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CLOSED = "closed", "Closed"


class FailureMode(models.TextChoices):
    """ISO 14224 Annex B failure modes (a common subset for rotating equipment and valves)."""

    FTS = "FTS", "Fail to start on demand"
    STP = "STP", "Fail to stop on demand"
    UST = "UST", "Spurious stop"
    BRD = "BRD", "Breakdown"
    ELP = "ELP", "External leakage - process medium"
    ELU = "ELU", "External leakage - utility medium"
    HIO = "HIO", "High output"
    LOO = "LOO", "Low output"
    VIB = "VIB", "Vibration"
    NOI = "NOI", "Noise"
    OHE = "OHE", "Overheating"
    PDE = "PDE", "Parameter deviation"
    STD = "STD", "Structural deficiency"
    INL = "INL", "Internal leakage"
    FTC = "FTC", "Fail to close on demand"
    FTO = "FTO", "Fail to open on demand"
    OTH = "OTH", "Other"


class FailureCause(models.TextChoices):
    """ISO 14224 Annex B failure causes (main categories with common subdivisions)."""

    DESIGN = "design", "Design-related"
    INSTALLATION = "installation", "Fabrication / installation error"
    WEAR = "wear", "Wear"
    FATIGUE = "fatigue", "Fatigue"
    CORROSION = "corrosion", "Corrosion"
    EROSION = "erosion", "Erosion"
    SAND = "sand", "Sand / solids production"
    OVERHEATING = "overheating", "Overheating"
    ELECTRICAL = "electrical", "Electrical failure"
    INSTRUMENT = "instrument", "Instrument failure"
    OPERATION = "operation", "Operating error / outside design envelope"
    MAINTENANCE = "maintenance", "Maintenance error"
    UNKNOWN = "unknown", "Unknown"


class PMTrigger(models.TextChoices):
    CALENDAR = "calendar", "Calendar interval"
    RUN_HOURS = "run_hours", "Run hours"
