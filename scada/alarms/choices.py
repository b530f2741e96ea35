from django.db import models


class AlarmKind(models.TextChoices):
    HIGH_HIGH = "HH", "High-high limit"
    HIGH = "H", "High limit"
    LOW = "L", "Low limit"
    LOW_LOW = "LL", "Low-low limit"
    DIGITAL = "DIGITAL", "Digital (state)"
    RATE_OF_CHANGE = "ROC", "Rate of change"
    COMM = "COMM", "Communication failure (Bad quality)"


class Priority(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"

    @classmethod
    def rank(cls, value: str) -> int:
        return {cls.CRITICAL: 0, cls.HIGH: 1, cls.MEDIUM: 2, cls.LOW: 3}[value]


class AlarmState(models.TextChoices):
    NORMAL = "NORMAL", "Normal"
    UNACKED = "UNACKED", "Active, unacknowledged"
    ACKED = "ACKED", "Active, acknowledged"
    RTN_UNACKED = "RTN_UNACKED", "Returned to normal, unacknowledged"
    SHELVED = "SHELVED", "Shelved"
    SUPPRESSED = "SUPPRESSED", "Suppressed by design"
    OUT_OF_SERVICE = "OUT_OF_SERVICE", "Out of service"


class AlarmEvent(models.TextChoices):
    RAISE = "raise", "Condition became active"
    CLEAR = "clear", "Condition returned to normal"
    ACK = "ack", "Acknowledged"
    SHELVE = "shelve", "Shelved"
    UNSHELVE = "unshelve", "Unshelved"
    SHELVE_EXPIRED = "shelve_expired", "Shelving expired"
    SUPPRESS = "suppress", "Suppressed by design"
    UNSUPPRESS = "unsuppress", "Suppression ended"
    REMOVE_FROM_SERVICE = "out_of_service", "Removed from service"
    RETURN_TO_SERVICE = "return_to_service", "Returned to service"
