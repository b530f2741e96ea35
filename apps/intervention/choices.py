from django.db import models


class JobType(models.TextChoices):
    COILED_TUBING = "coiled_tubing", "Coiled tubing"
    WORKOVER = "workover", "Workover"
    SLICKLINE = "slickline", "Slickline"
    WIRELINE = "wireline", "Wireline (electric line)"


class JobStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ToolType(models.TextChoices):
    ROPE_SOCKET = "rope_socket", "Rope socket"
    STEM = "stem", "Stem / weight bar"
    JAR = "jar", "Jar"
    KNUCKLE_JOINT = "knuckle_joint", "Knuckle joint"
    SWIVEL = "swivel", "Swivel"
    RUNNING_TOOL = "running_tool", "Running tool"
    PULLING_TOOL = "pulling_tool", "Pulling tool"
    GAUGE_CUTTER = "gauge_cutter", "Gauge cutter"
    CROSSOVER = "crossover", "Crossover"
    OTHER = "other", "Other"


class Gender(models.TextChoices):
    PIN = "pin", "Pin"
    BOX = "box", "Box"


class ToolstringStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"
