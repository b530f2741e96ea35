"""The CSV watcher (protocol ``csv``): a push driver that imports exported files dropped into a directory (daily tank
gauging, third-party meter exports, field staff's spreadsheets) into the sample stream, exactly once per content.

Every poll interval the driver lists the directory (a scan, not inotify: exports arrive on SMB/NFS shares where
inotify sees no remote writes, a scan needs no dependency, and after a restart the directory itself is the queue).
A file matching ``pattern`` is read once its size and mtime were unchanged for ``settle_s`` over at least two scans
(a file still being copied is left alone), then files are processed one at a time in name order:

1. read (at most ``max_file_mb``) and hash (sha256); look the content up in the ledger (``ingest.ImportedFile``,
   unique on device + sha256): ARCHIVED -> a duplicate (archived, reported as a dead letter, not imported);
   IMPORTED -> a crash happened after the import, before the move: only archive it; PENDING -> a crash happened
   before the historian confirmed the whole file: import again, skipping the samples the historian already holds;
   none (or ERROR) -> write a PENDING row and import;
2. parse with the csv module: the timestamp column (ISO-8601 with or without offset, epoch s/ms, or a strftime
   format; naive times are in ``time_zone``), one tag per mapped column (``CsvAddress.column``), the unit in the
   header (``THP [psi]``) or in the address converted to the tag's unit with pint, an optional quality column.
   A bad cell or row (timestamp, one older than the historian's retention or a day in the future, number, range,
   quality, too many cells) becomes a dead letter ``<file>:<line>``; the good values of
   the file are imported. A file that cannot be parsed at all (not text, no header, no timestamp column, no mapped
   column) goes to the error directory with one dead letter;
3. publish the samples (sorted by time, in batches) and wait for the gateway's commit callback of the last batch.
   Rows are history, not the present: a sample older than ``SCADA_LIVE_MAX_AGE_S`` (default 300 s; or as far in
   the future), or older than the last value this driver fed live for its tag, is flagged ``historical`` and goes
   to the historian only (``scada.runtime.samples.mark_historical``, the rule of every timestamped source).
   Importing yesterday's export must not raise or clear alarms now, nor show old values on the HMI as current; a
   row of the last few minutes (a frequent export) still feeds the current value, alarms and HMI;
4. in one transaction: the ledger row becomes IMPORTED with its counts, and the file's dead letters are written
   (bulk). Then the file is moved to the archive directory and the row becomes ARCHIVED.

A crash anywhere re-runs the file from the step its ledger row records, so a file is imported into the historian
once, and its dead letters are written once. Database work runs in one thread of the driver (never in the event
loop); reading, hashing and parsing run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import csv
import functools
import hashlib
import io
import logging
import math
import os
import re
import shutil
import time
import zoneinfo
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path

from scada.drivers.base import Driver
from scada.protocols import csv_directories
from scada.runtime.config import TagConfig
from scada.runtime.dbthread import db_guarded, shut_down_db_thread
from scada.runtime.samples import BAD, GOOD, UNCERTAIN, Sample, mark_historical

log = logging.getLogger("scada.csv")

SOURCE = "csv"
PUBLISH_BATCH = 5000
FUTURE_S = 86400.0  # a row more than a day ahead of the gateway's clock is refused
HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[\[(]\s*(?P<unit>[^\[\]()]+?)\s*[\])]$")
QUALITIES = {"": GOOD, "good": GOOD, "0": GOOD, "g": GOOD, "uncertain": UNCERTAIN, "1": UNCERTAIN, "u": UNCERTAIN,
             "bad": BAD, "2": BAD, "b": BAD}
BOOLS = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "on": 1.0, "off": 0.0, "yes": 1.0, "no": 0.0,
         "open": 1.0, "closed": 0.0, "run": 1.0, "stop": 0.0}


class FileError(Exception):
    """The file cannot be parsed at all: it goes to the error directory with one dead letter."""


def norm(column: str) -> str:
    return " ".join(column.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Column:
    """A mapped column: the tag, and value -> a * value + b (unit conversion; 1, 0 without)."""

    tag: TagConfig
    a: float = 1.0
    b: float = 0.0


@dataclass
class Parsed:
    samples: list[Sample] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line of each sample
    letters: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)
    rows_accepted: int = 0
    rows_rejected: int = 0


def affine(from_unit: str, to_unit: str) -> tuple[float, float]:
    """(a, b) such that a value in ``from_unit`` is ``a * v + b`` in ``to_unit`` (every unit pint knows is affine)."""
    from scada.ingest.units import convert

    b = convert(0.0, from_unit, to_unit)
    return convert(1.0, from_unit, to_unit) - b, b


class TimestampParser:
    def __init__(self, fmt: str, time_zone: str):
        self.fmt = fmt
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.zone = time_zone

    def __call__(self, text: str) -> float:
        text = text.strip()
        if not text:
            raise ValueError("empty timestamp")
        if self.fmt in ("epoch_s", "epoch_ms"):
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(f"timestamp {text!r} is not a number of seconds")
            return value / 1000.0 if self.fmt == "epoch_ms" else value
        try:
            dt = datetime.fromisoformat(text) if self.fmt == "iso" else datetime.strptime(text, self.fmt)
        except ValueError:
            expected = "ISO-8601" if self.fmt == "iso" else repr(self.fmt)
            raise ValueError(f"timestamp {text!r} does not match {expected}") from None
        if dt.tzinfo is not None:
            return dt.timestamp()
        local = dt.replace(tzinfo=self.tz)  # fold=0: an ambiguous time (clocks going back) is the first occurrence
        if local.astimezone(UTC).astimezone(self.tz).replace(tzinfo=None) != dt:
            raise ValueError(f"timestamp {text!r} does not exist in {self.zone} (clocks went forward)")
        return local.timestamp()


def _number(text: str, decimal_comma: bool) -> float:
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".") if "," in text else text
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


def parse_csv(data: bytes, name: str, settings: dict, columns: dict[str, Column], tag_units: dict[int, str],
              window: tuple[float, float] | None = None) -> Parsed:
    """Samples and dead letters of one file. ``columns``: normalised column name -> Column (from the tag addresses,
    before header units); ``tag_units``: tag key -> the tag's unit; ``window``: (oldest, newest) accepted timestamp
    (the historian's retention would delete older rows; a row far in the future is a wrong clock or time zone).
    Raises FileError when nothing can be read."""
    if b"\x00" in data[:65536]:
        raise FileError("not a text file (NUL bytes)")
    try:
        text = data.decode(settings.get("encoding") or "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(f"not {settings.get('encoding')} text: byte {exc.start} cannot be decoded") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=settings.get("delimiter") or ",")
    parsed = Parsed()
    header_line = 0
    header = None
    try:
        for header in reader:
            if any(cell.strip() for cell in header):
                header_line = reader.line_num
                break
        else:
            header = None
    except csv.Error as exc:
        raise FileError(f"header: {exc}") from None
    if not header:
        raise FileError("empty file: no header row")

    ts_name = norm(settings.get("timestamp_column") or "timestamp")
    quality_name = norm(settings.get("quality_column") or "")
    ignore = {norm(c) for c in (settings.get("ignore_columns") or [])}
    ts_index = quality_index = None
    mapped: list[tuple[int, Column]] = []
    seen: dict[str, int] = {}
    header_text = lines[header_line - 1].rstrip("\r\n")

    def header_letter(reason: str) -> None:
        parsed.letters.append((header_line, header_text, reason))

    for index, raw in enumerate(header):
        full = norm(raw)
        if not full:
            continue
        if full in seen:
            raise FileError(f"column {raw.strip()!r} appears twice in the header")
        seen[full] = index
        if full == ts_name:
            ts_index = index
            continue
        if quality_name and full == quality_name:
            quality_index = index
            continue
        column, unit = columns.get(full), ""
        if column is None:
            match = HEADER_UNIT.match(raw.strip())
            if match and norm(match["name"]) in columns:
                column, unit = columns[norm(match["name"])], match["unit"]
        if column is None:
            if full not in ignore and not (match and norm(match["name"]) in ignore):
                header_letter(f"unknown column {raw.strip()!r}: not mapped to a tag of the device "
                              "(map it, or list it in ignore_columns)")
            continue
        if any(other.tag.key == column.tag.key for _i, other in mapped):
            header_letter(f"column {raw.strip()!r} not imported: another column already feeds {column.tag.name}")
            continue
        unit = unit or column.tag.address.get("unit", "")
        target = tag_units.get(column.tag.key, "")
        if unit and target:
            try:
                a, b = affine(unit, target)
            except ValueError as exc:
                header_letter(f"column {raw.strip()!r} not imported: {exc}")
                continue
            column = Column(column.tag, a, b)
        mapped.append((index, column))
    if ts_index is None:
        raise FileError(f"no timestamp column {settings.get('timestamp_column')!r} in the header")
    if not mapped:
        raise FileError("none of the columns maps to a tag of the device")

    parse_ts = TimestampParser(settings.get("timestamp_format") or "iso", settings.get("time_zone") or "UTC")
    decimal_comma = bool(settings.get("decimal_comma"))
    width = len(header)
    samples, sample_lines = parsed.samples, parsed.lines
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num
            parsed.letters.append((start, "".join(lines[start - 1:end]).rstrip("\r\n"), f"unreadable row: {exc}"))
            parsed.rows_rejected += 1
            start = end + 1
            continue
        line, end = start, reader.line_num
        start = end + 1
        if not any(cell.strip() for cell in row):
            continue
        reasons = []
        if len(row) > width:
            reasons.append(f"{len(row)} cells for {width} columns")
        else:
            try:
                ts = parse_ts(row[ts_index] if ts_index < len(row) else "")
            except ValueError as exc:
                reasons.append(str(exc))
            else:
                if window and not window[0] <= ts <= window[1]:
                    when = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                    reasons.append(f"timestamp {when} is older than the historian's retention" if ts < window[0]
                                   else f"timestamp {when} is in the future (clock or time zone wrong?)")
            quality = GOOD
            if not reasons and quality_index is not None:
                q = row[quality_index].strip().casefold() if quality_index < len(row) else ""
                if q not in QUALITIES:
                    reasons.append(f"quality {row[quality_index].strip()!r} is not GOOD, UNCERTAIN or BAD")
                quality = QUALITIES.get(q, GOOD)
        accepted = 0
        if not reasons:
            for index, column in mapped:
                cell = row[index].strip() if index < len(row) else ""
                if not cell:
                    continue  # an empty cell is no sample
                tag = column.tag
                try:
                    if tag.data_type == "bool":
                        value = BOOLS[cell.casefold()]
                    else:
                        value = _number(cell, decimal_comma) * column.a + column.b
                except (KeyError, ValueError):
                    reasons.append(f"{header[index].strip()}: {cell!r} is not a number")
                    continue
                if tag.eng_low is not None and value < tag.eng_low - 1e-9 * abs(tag.eng_low or 1):
                    reasons.append(f"{header[index].strip()}: {value:g} is below the range of {tag.name} "
                                   f"(minimum {tag.eng_low:g})")
                    continue
                if tag.eng_high is not None and value > tag.eng_high + 1e-9 * abs(tag.eng_high or 1):
                    reasons.append(f"{header[index].strip()}: {value:g} is above the range of {tag.name} "
                                   f"(maximum {tag.eng_high:g})")
                    continue
                samples.append(Sample(tag.key, ts, None if quality == BAD else value, quality))
                sample_lines.append(line)
                accepted += 1
        if accepted:
            parsed.rows_accepted += 1
        if reasons:
            parsed.rows_rejected += 1
            parsed.letters.append((line, "".join(lines[line - 1:end]).rstrip("\r\n"), "; ".join(reasons)))
    if samples:  # exports are often newest first: the stream and current values go forward
        order = sorted(range(len(samples)), key=lambda i: samples[i].ts)
        parsed.samples = [samples[i] for i in order]
        parsed.lines = [sample_lines[i] for i in order]
    return parsed


# -- the ledger and the dead letters (run in the driver's database thread) ---------------------------------------
def _ledger_begin(device_id: str, sha256: str, name: str, size: int):
    """(action, row) for this content: import / reimport (PENDING before) / archive (IMPORTED) / duplicate."""
    from django.db import IntegrityError, transaction

    from scada.ingest.models import ImportedFile

    Status = ImportedFile.Status
    with transaction.atomic():
        row = ImportedFile.objects.select_for_update().filter(device_id=device_id, sha256=sha256).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = ImportedFile.objects.create(device_id=device_id, sha256=sha256, name=name[:255], size=size)
            except IntegrityError:  # pragma: no cover - one driver per device; another process raced us
                return "busy", None
            return "import", row
        if row.status == Status.ARCHIVED:
            return "duplicate", row
        if row.status == Status.IMPORTED:
            return "archive", row
        action = "reimport" if row.status == Status.PENDING else "import"
        row.attempts += 1
        row.status, row.reason, row.name = Status.PENDING, "", name[:255]
        row.save(update_fields=["attempts", "status", "reason", "name"])
        return action, row


def _ledger_imported(row_id: int, name: str, parsed_counts: dict, letters: list[tuple[int, str, str]]) -> None:
    from django.db import transaction
    from django.utils import timezone

    from scada.ingest.models import DeadLetter, ImportedFile

    with transaction.atomic():
        ImportedFile.objects.filter(pk=row_id).update(status=ImportedFile.Status.IMPORTED, imported_at=timezone.now(),
                                                      **parsed_counts)
        DeadLetter.objects.bulk_create([DeadLetter.build(SOURCE, f"{name}:{line}", text, reason)
                                        for line, text, reason in letters], batch_size=1000)


def _ledger_update(row_id: int, **fields) -> None:
    from scada.ingest.models import ImportedFile

    ImportedFile.objects.filter(pk=row_id).update(**fields)


def _dead_letters(letters: list[tuple[str, str, str]]) -> None:
    from scada.ingest.models import DeadLetter

    DeadLetter.objects.bulk_create([DeadLetter.build(SOURCE, topic, text, reason) for topic, text, reason in letters],
                                   batch_size=1000)


def _stored(keys: list[int], first: float, last: float) -> dict[tuple[int, int], float | None]:
    """{(tag key, ms): value} of the historian rows of these tags in [first, last]: what an interrupted import of this
    file, or an earlier export overlapping it, already wrote."""
    from scada import historian

    start = datetime.fromtimestamp(first, UTC)
    end = datetime.fromtimestamp(last, UTC) + timedelta(milliseconds=1)
    return {(key, round(ts.timestamp() * 1000)): value
            for key in keys for ts, value, _q in historian.raw_rows(key, start, end)}


def new_samples(parsed: Parsed, stored: dict, names: dict[int, str]) -> tuple[list[Sample], int]:
    """The samples the historian does not hold yet, and how many it already held with the same value; a different
    stored value for the same tag and time is not overwritten: it becomes a dead letter (a corrected export)."""
    if not stored:
        return parsed.samples, 0
    fresh, same = [], 0
    for sample, line in zip(parsed.samples, parsed.lines, strict=True):
        key = (sample.key, round(sample.ts * 1000))
        if key not in stored:
            fresh.append(sample)
            continue
        old = stored[key]
        if old == sample.value or (old is not None and sample.value is not None
                                   and math.isclose(old, sample.value, rel_tol=1e-6, abs_tol=1e-9)):
            same += 1
            continue
        when = datetime.fromtimestamp(sample.ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        parsed.letters.append((line, f"{names.get(sample.key, sample.key)}={sample.value}",
                               f"{names.get(sample.key, sample.key)} at {when}: {sample.value} differs from the value "
                               f"already stored ({old}); not overwritten"))
    return fresh, same


def _tag_units(keys: list[int]) -> dict[int, str]:
    from scada.models import Tag

    return dict(Tag.objects.filter(key__in=keys).values_list("key", "unit"))


def move_unique(src: Path, directory: Path, mark: str) -> Path:
    """Move ``src`` into ``directory`` without overwriting: name, else name.<mark>[-n].ext."""
    directory.mkdir(parents=True, exist_ok=True)
    target, n = directory / src.name, 1
    while target.exists():
        target = directory / f"{src.stem}.{mark}{'' if n == 1 else f'-{n}'}{src.suffix}"
        n += 1
    shutil.move(src, target)
    return target


def _read(path: Path, max_bytes: int) -> tuple[bytes, str]:
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileError(f"larger than max_file_mb ({max_bytes / 1e6:g} MB)")
    return data, hashlib.sha256(data).hexdigest()


class CsvDriver(Driver):
    polled = False
    report_by_exception = True  # a file a day: the age of the last reading says nothing about the source

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        self.settings = dict(device.settings or {})
        watched, archive, error = csv_directories(self.settings)
        self.directory, self.archive_dir, self.error_dir = Path(watched), Path(archive), Path(error)
        self.pattern = (self.settings.get("pattern") or "*.csv").casefold()
        self.settle_s = float(self.settings.get("settle_s", 5.0))
        self.max_bytes = int(float(self.settings.get("max_file_mb", 20.0)) * 1_000_000)
        self.columns: dict[str, Column] = {}
        for tag in device.tags:
            column = norm(str(tag.address.get("column", "")))
            if column:
                self.columns[column] = Column(tag)
        self.tag_units: dict[int, str] = {}
        self._newest_live: dict[int, float] = {}  # tag key -> time of the newest sample fed live
        self._seen: dict[str, tuple[int, int, float]] = {}  # name -> (size, mtime_ns, first seen unchanged)
        self._db: ThreadPoolExecutor | None = None
        self._stop = asyncio.Event()
        self.stats: Counter = Counter()  # scans, imported, duplicates, errors, dead_letters, samples, samples_live

    # -- plumbing -------------------------------------------------------------------------------------------------
    async def _db_call(self, fn, *args, **kwargs):
        ctx = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._db, functools.partial(ctx.run, db_guarded, fn, *args, **kwargs))

    async def connect(self) -> None:
        if self._db is None:
            self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"csv-{self.device.name}")
        self._stop = asyncio.Event()
        if not self.directory.is_dir():
            raise ConnectionError(f"directory {self.directory} does not exist (share not mounted?)")
        for directory in (self.archive_dir, self.error_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.tag_units = await self._db_call(_tag_units, [c.tag.key for c in self.columns.values()])

    async def read(self):
        return []

    async def run(self) -> None:
        interval = max(0.05, self.device.poll_interval_s)
        while not self._stop.is_set():
            await self.scan()
            try:
                await asyncio.wait_for(self._stop.wait(), interval)
            except TimeoutError:
                pass

    async def close(self) -> None:
        self._stop.set()
        db, self._db = self._db, None
        await shut_down_db_thread(db)

    # -- scanning -------------------------------------------------------------------------------------------------
    def _settled(self) -> list[Path]:
        """Files whose size and mtime did not change since an earlier scan at least ``settle_s`` ago, by name."""
        now = time.monotonic()
        present, ready = set(), []
        try:
            entries = list(os.scandir(self.directory))
        except OSError as exc:
            raise ConnectionError(f"cannot list {self.directory}: {exc}") from exc
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~")) or not fnmatchcase(name.casefold(), self.pattern):
                continue
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue  # vanished meanwhile
            present.add(name)
            previous = self._seen.get(name)
            if previous is None or previous[:2] != (st.st_size, st.st_mtime_ns):
                self._seen[name] = (st.st_size, st.st_mtime_ns, now)
            elif now - previous[2] >= self.settle_s:
                ready.append(self.directory / name)
        for name in set(self._seen) - present:
            del self._seen[name]
        return sorted(ready)

    async def scan(self) -> int:
        """One pass over the directory: process every settled file; returns how many were handled."""
        ready = await asyncio.to_thread(self._settled)
        done = 0
        for path in ready:
            if self._stop.is_set():
                break
            try:
                await self._process(path)
                done += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001  (database away, permissions: the file stays and is retried)
                self.stats["failures"] += 1
                log.exception("csv %s: %s not processed; retrying at the next scan", self.device.name, path.name)
        self.stats["scans"] += 1
        return done

    async def _process(self, path: Path) -> None:
        name = path.name
        try:
            data, sha256 = await asyncio.to_thread(_read, path, self.max_bytes)
        except FileNotFoundError:
            self._seen.pop(name, None)
            return
        except FileError as exc:
            await self._reject(path, None, str(exc), "")
            return
        action, row = await self._db_call(_ledger_begin, self.device.id, sha256, name, len(data))
        if action == "busy":
            return
        if action == "duplicate":
            when = row.imported_at.strftime("%Y-%m-%d %H:%M:%S UTC") if row.imported_at else "earlier"
            await self._db_call(_dead_letters, [(name, "", f"duplicate: same content as {row.name} imported {when} "
                                                            f"(sha256 {sha256[:12]}); not imported again, moved to "
                                                            f"{self.archive_dir}")])
            await asyncio.to_thread(move_unique, path, self.archive_dir, sha256[:12])
            self._seen.pop(name, None)
            self.stats["duplicates"] += 1
            log.warning("csv %s: %s is a duplicate of %s; archived without importing", self.device.name, name,
                        row.name)
            return
        if action == "archive":  # imported before a crash, not yet moved
            self.stats["archived_only"] += 1
            log.info("csv %s: %s was imported before an interruption; archiving it", self.device.name, name)
            await self._archive(path, row.pk, sha256)
            return
        try:
            from django.conf import settings

            now = time.time()
            window = (now - 86400.0 * settings.SCADA_RETENTION_DAYS, now + FUTURE_S)
            parsed = await asyncio.to_thread(parse_csv, data, name, self.settings, self.columns, self.tag_units,
                                             window)
        except FileError as exc:
            await self._reject(path, row.pk, str(exc), data[:4096])
            return
        samples, same = parsed.samples, 0
        if samples:  # an interrupted attempt at this file, or an overlapping export, may hold some of them already
            stored = await self._db_call(_stored, sorted({s.key for s in samples}), samples[0].ts, samples[-1].ts)
            samples, same = new_samples(parsed, stored, {c.tag.key: c.tag.name for c in self.columns.values()})
            if same:
                log.info("csv %s: %s: %d samples were already stored (%s)", self.device.name, name, same,
                         "an interrupted import" if action == "reimport" else "overlapping export")
        live = mark_historical(samples, self._newest_live)
        self.stats["samples_live"] += live
        committed = asyncio.get_running_loop().create_future()

        def ack() -> None:
            if not committed.done():
                committed.set_result(True)

        for start in range(0, len(samples), PUBLISH_BATCH):
            await self.publish(samples[start:start + PUBLISH_BATCH])
        await self.publish([], on_commit=ack)  # a marker after the last sample: every sample is in the historian
        await committed
        counts = {"rows_accepted": parsed.rows_accepted, "rows_rejected": parsed.rows_rejected,
                  "samples": len(samples), "samples_skipped": len(parsed.samples) - len(samples)}
        if parsed.samples:
            counts["first_ts"] = datetime.fromtimestamp(parsed.samples[0].ts, UTC)
            counts["last_ts"] = datetime.fromtimestamp(parsed.samples[-1].ts, UTC)
        await self._db_call(_ledger_imported, row.pk, name, counts, parsed.letters)
        self.stats["imported"] += 1
        self.stats["samples"] += len(samples)
        self.stats["dead_letters"] += len(parsed.letters)
        log.info("csv %s: %s imported: %d rows, %d samples (%d recent enough to feed the live values), %d rejected",
                 self.device.name, name, parsed.rows_accepted, len(parsed.samples), live, parsed.rows_rejected)
        await self._archive(path, row.pk, sha256)

    async def _archive(self, path: Path, row_id: int, sha256: str) -> None:
        from scada.ingest.models import ImportedFile

        target = await asyncio.to_thread(move_unique, path, self.archive_dir, sha256[:12])
        self._seen.pop(path.name, None)
        await self._db_call(_ledger_update, row_id, status=ImportedFile.Status.ARCHIVED, archived_as=str(target))
        self.stats["archived"] += 1

    async def _reject(self, path: Path, row_id: int | None, reason: str, payload) -> None:
        """A file that cannot be parsed at all: one dead letter, ledger ERROR (tried again if dropped again, e.g.
        after the device's settings were fixed), then the error directory. The report is written before the move:
        a crash in between reports it twice rather than never."""
        from scada.ingest.models import ImportedFile

        await self._db_call(_dead_letters, [(path.name, payload, f"file not imported: {reason}; moved to "
                                                                 f"{self.error_dir}")])
        if row_id is not None:
            await self._db_call(_ledger_update, row_id, status=ImportedFile.Status.ERROR, reason=reason[:500])
        target = await asyncio.to_thread(move_unique, path, self.error_dir, time.strftime("%Y%m%dT%H%M%S"))
        self._seen.pop(path.name, None)
        if row_id is not None:
            await self._db_call(_ledger_update, row_id, archived_as=str(target))
        self.stats["errors"] += 1
        log.warning("csv %s: %s not imported (%s); moved to %s", self.device.name, path.name, reason, target)
