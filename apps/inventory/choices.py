from django.db import models


class UnitOfMeasure(models.TextChoices):
    EACH = "ea", "Each"
    SET = "set", "Set"
    METRE = "m", "Metre"
    FOOT = "ft", "Foot"
    KILOGRAM = "kg", "Kilogram"
    LITRE = "l", "Litre"
    BARREL = "bbl", "Barrel"
    SACK = "sk", "Sack"


class ItemCategory(models.TextChoices):
    SPARE = "spare", "Spare part"
    CONSUMABLE = "consumable", "Consumable"
    CHEMICAL = "chemical", "Chemical / mud product"
    TUBULAR = "tubular", "Tubular (casing, tubing, rods)"
    TOOL = "tool", "Tool / rental"
    OTHER = "other", "Other"


class WarehouseKind(models.TextChoices):
    SITE_STORE = "site_store", "Site store"
    RIG_STORE = "rig_store", "Rig store"
    YARD = "yard", "Pipe yard / laydown"


class MoveType(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue"
    TRANSFER = "transfer", "Transfer"
    ADJUSTMENT = "adjustment", "Adjustment"
    RETURN = "return", "Return"


class IssueTarget(models.TextChoices):
    WELL = "well", "Well"
    JOB = "job", "Job"
    WORK_ORDER = "work_order", "Work order"
    COST_CENTER = "cost_center", "Cost centre"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CONSUMED = "consumed", "Consumed (issued)"
    RELEASED = "released", "Released"
