"""Plain snapshots of the device/tag configuration: drivers never touch the ORM (they run in the event loop)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TagConfig:
    key: int
    id: str
    name: str
    data_type: str
    address: dict
    scaling: str = "none"
    raw_low: float | None = None
    raw_high: float | None = None
    eng_low: float | None = None
    eng_high: float | None = None
    deadband: float = 0.0  # absolute, engineering units
    max_interval_s: float = 900.0
    writable: bool = False

    @classmethod
    def from_model(cls, tag) -> TagConfig:
        return cls(key=tag.key, id=str(tag.pk), name=tag.name, data_type=tag.data_type, address=dict(tag.address),
                   scaling=tag.scaling, raw_low=tag.raw_low, raw_high=tag.raw_high, eng_low=tag.eng_low,
                   eng_high=tag.eng_high, deadband=tag.deadband_abs(), max_interval_s=float(tag.max_interval_s),
                   writable=tag.writable)


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    name: str
    protocol: str
    settings: dict
    poll_interval_s: float
    stale_after_intervals: int
    tags: tuple[TagConfig, ...] = field(default_factory=tuple)

    @classmethod
    def from_model(cls, device, tags) -> DeviceConfig:
        return cls(id=str(device.pk), name=device.name, protocol=device.protocol, settings=device.settings(),
                   poll_interval_s=device.poll_interval_ms / 1000.0,
                   stale_after_intervals=device.stale_after_intervals,
                   tags=tuple(TagConfig.from_model(t) for t in tags))


def load_config() -> dict[str, DeviceConfig]:
    """Every enabled device with its enabled tags; a device whose settings do not validate is skipped (logged)."""
    import logging

    from rest_framework.exceptions import ValidationError

    from scada.models import Device, Tag

    log = logging.getLogger("scada.gateway")
    tags_by_device: dict = {}
    for tag in Tag.objects.filter(enabled=True, device__enabled=True).order_by("key"):
        tags_by_device.setdefault(tag.device_id, []).append(tag)
    result = {}
    for device in Device.objects.filter(enabled=True):
        try:
            result[str(device.pk)] = DeviceConfig.from_model(device, tags_by_device.get(device.pk, []))
        except ValidationError as exc:
            log.error("device %s: bad configuration, not started: %s", device.name, exc.detail)
    return result


def config_signature() -> tuple:
    """Cheap fingerprint of the configuration: changes whenever a device or tag is added, changed or deleted."""
    from django.db.models import Count, Max

    from scada.models import Device, Tag

    d = Device.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    t = Tag.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (d["n"], d["at"], t["n"], t["at"])
