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
