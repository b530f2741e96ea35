"""Demo of the CSV watcher: the morning tank gauging of pad PAD-A, exported by the gauger's tablet in Central time.

``seed_csv_demo(stdout)`` creates device ``CSV-GAUGE-A`` (protocol ``csv``) watching ``<VAR_DIR>/csv/tank-gauging``,
its tags (hand-gauged oil level, BS&W and oil temperature of tank TK-1, and the water tank level) and drops a first
export with the last seven mornings. ``drop_gauging_export()`` writes another export (today's gauging) for the demo
to pick up; ``bad_row=True`` adds a mistyped row that lands in the dead letters with its line number.

The export is what such tablets write: US dates in local time, units in the headers (ft, %, degF) converted by the
watcher to the tags' units (m, %, degC), and a remarks column the watcher is told to ignore.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DEVICE = "CSV-GAUGE-A"
SITE = "PAD-A"
ZONE = "America/Chicago"
TIME_FORMAT = "%m/%d/%Y %H:%M"
HEADER = ["Gauge time", "TK-1 oil level [ft]", "TK-1 BS&W [%]", "TK-1 oil temp [degF]", "TK-2 water level [ft]",
          "Gauger", "Remarks"]
TAGS = [  # name suffix, column, description, unit, eng range
    ("TK1_GAUGE", "TK-1 oil level", "TK-1 oil level, hand gauged", "m", (0.0, 6.0)),
    ("TK1_BSW", "TK-1 BS&W", "TK-1 basic sediment and water (grind-out)", "%", (0.0, 100.0)),
    ("TK1_TEMP", "TK-1 oil temp", "TK-1 oil temperature", "degC", (-20.0, 90.0)),
    ("TK2_GAUGE", "TK-2 water level", "TK-2 produced water level, hand gauged", "m", (0.0, 6.0)),
]


def export_directory() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "csv" / "tank-gauging"


def seed_csv_demo(stdout, drop: bool = True) -> None:
    from apps.wells.models import Site
    from scada.ingest.models import ImportedFile
    from scada.models import Device, Tag
    from scada.protocols import validate_address, validate_connection

    site = Site.objects.filter(code=SITE).first()
    if site is None:
        stdout.write(f"CSV demo skipped: site {SITE} is missing.")
        return
    directory = export_directory()
    directory.mkdir(parents=True, exist_ok=True)
    connection = validate_connection("csv", {
        "directory": str(directory), "pattern": "*.csv", "timestamp_column": "Gauge time",
        "timestamp_format": TIME_FORMAT, "time_zone": ZONE, "ignore_columns": ["Gauger", "Remarks"], "settle_s": 2})
    device, _ = Device.objects.update_or_create(name=DEVICE, defaults={
        "site": site, "protocol": "csv", "description": "Tank gauging exports (gauger's tablet)",
        "poll_interval_ms": 10_000, "stale_after_intervals": 1000, "enabled": True, "connection": connection})
    for suffix, column, description, unit, (low, high) in TAGS:
        Tag.objects.update_or_create(name=f"{SITE}.{suffix}", defaults={
            "device": device, "description": description, "unit": unit, "data_type": "float32",
            "address": validate_address("csv", {"column": column}), "eng_low": low, "eng_high": high,
            "scaling": "none", "deadband": 0.0, "max_interval_s": 86400, "writable": False})
    dropped = ""
    if drop and not ImportedFile.objects.filter(device=device).exists() and not any(directory.glob("*.csv")):
        dropped = f"; dropped {drop_gauging_export(days=7).name}"
    stdout.write(f"Seeded CSV demo: device {DEVICE} watching {directory} ({len(TAGS)} tags){dropped}.")


def _reading(day: int, rng: random.Random) -> list[str]:
    """One morning's gauging: TK-1 fills ~0.4 ft a day and is sold off every fourth day; TK-2 takes the water."""
    oil = 4.0 + 1.6 * ((day % 4) / 3) + rng.uniform(-0.05, 0.05)
    water = 3.0 + 0.9 * ((day % 5) / 4) + rng.uniform(-0.05, 0.05)
    return [f"{oil:.2f}", f"{rng.uniform(0.2, 1.2):.1f}", f"{rng.uniform(68, 96):.0f}", f"{water:.2f}"]


def drop_gauging_export(directory: Path | None = None, days: int = 1, bad_row: bool = False,
                        now: datetime | None = None) -> Path:
    """Write a gauging export with the last ``days`` mornings (07:00 Central) and return its path.

    Written to a hidden temporary file and renamed, as a well-behaved export tool does (the watcher also waits for a
    file to settle, for tools that write in place)."""
    directory = Path(directory) if directory else export_directory()
    directory.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(ZONE)
    now = (now or datetime.now(zone)).astimezone(zone)
    today = now.replace(hour=7, minute=0, second=0, microsecond=0)
    if today > now:
        today -= timedelta(days=1)
    lines = [",".join(HEADER)]
    for back in range(days - 1, -1, -1):
        at = today - timedelta(days=back)
        rng = random.Random(at.toordinal())
        lines.append(",".join([at.strftime(TIME_FORMAT), *_reading(at.toordinal(), rng), "JR", ""]))
    if bad_row:
        at = today - timedelta(minutes=30)
        lines.append(",".join([at.strftime(TIME_FORMAT), "4,2", "0.6", "81", "3.10", "JR", "typo: decimal comma"]))
    name = f"gauging-{SITE}-{now:%Y%m%d-%H%M%S}.csv"
    temporary = directory / f".{name}.tmp"
    temporary.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    os.replace(temporary, directory / name)
    return directory / name
