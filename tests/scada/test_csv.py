"""The CSV watcher end to end: real files in tmp_path, the real database and the real Gateway with its historian
writer. Imported once (also under another name, also after a crash between commit and archive or before the commit),
bad rows dead-lettered with their line numbers while the good values are stored, a file still being written left
alone, unit conversion, local-time exports, unreadable files to the error directory, and the driver keeps running."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection

from apps.core.context import Channel, acting
from scada.drivers.csv_watcher import Column, FileError, _tag_units, parse_csv
from scada.runtime.config import TagConfig
from scada.runtime.gateway import Gateway
from scada.runtime.samples import BAD, GOOD, UNCERTAIN
from tests.scada.helpers import until


@pytest.fixture
def site(clean_historian, settings):
    from apps.wells.models import Field, Site

    settings.SCADA_RETENTION_DAYS = 36500  # the fixed dates below stay inside the retention whatever today is

    field = Field.objects.create(code="CSVF", name="CSV field")
    return Site.objects.create(field=field, code="CSV-PAD", name="CSV pad")


@pytest.fixture
def dirs(tmp_path):
    inbox = tmp_path / "exports"
    inbox.mkdir()
    return inbox


def make_csv_device(site, inbox, poll_ms=50, name="CSV-GAUGE", **settings):
    from scada.models import Device

    device = Device(site=site, name=name, protocol="csv", poll_interval_ms=poll_ms, stale_after_intervals=1000,
                    connection={"directory": str(inbox), "settle_s": 0, **settings})
    device.full_clean()
    device.save()
    return device


def make_csv_tag(device, name, column, unit="", **fields):
    from scada.models import Tag

    address = {"column": column}
    if "column_unit" in fields:
        address["unit"] = fields.pop("column_unit")
    tag = Tag(device=device, name=name, data_type=fields.pop("data_type", "float32"), unit=unit, address=address,
              **fields)
    tag.full_clean()
    tag.save()
    return tag


def historian_rows(tag) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ts, value, quality FROM scada_historian WHERE tag_key = %s ORDER BY ts", [tag.key])
        return [(ts.astimezone(UTC).isoformat(), value, quality) for ts, value, quality in cursor.fetchall()]


def letters():
    from scada.ingest.models import DeadLetter

    return {d.topic: d.reason for d in DeadLetter.objects.filter(source="csv")}


def drop(directory, name, text):
    """Write a file the way an export tool does at the end: in full (tests of partial writes append themselves)."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def gateway():
    gw = Gateway(flush_ms=20, reload_s=0.2, hooks=[])
    stop = asyncio.Event()
    with acting(channel=Channel.GATEWAY):
        task = asyncio.create_task(gw.run(stop))
    await until(lambda: gw.ready.is_set() and gw.runners and all(r.connected for r in gw.runners.values()),
                what="gateway and CSV device connected")
    try:
        yield gw
    finally:
        stop.set()
        await task


def driver_of(gw, device):
    return gw.runners[str(device.pk)].driver


GOOD_FILE = """timestamp,Tank 1 level,Oil temp
2025-03-01T06:00:00Z,3.25,41.5
2025-03-01T12:00:00Z,3.5,42.0
2025-03-02T06:00:00+01:00,3.75,
"""


def test_good_file_imported_archived_and_never_imported_twice(site, dirs):
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs)
    level = make_csv_tag(device, "TK1.LVL", "Tank 1 level", unit="m", eng_low=0, eng_high=10)
    temp = make_csv_tag(device, "TK1.TEMP", "oil TEMP", unit="degC")  # columns match case-insensitively

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            drop(dirs, "gauging-20250302.csv", GOOD_FILE)
            await until(lambda: driver.stats["imported"] == 1, what="first import")
            # the same content again, under another name and under the same name: archived, not imported
            drop(dirs, "gauging-copy.csv", GOOD_FILE)
            await until(lambda: driver.stats["duplicates"] == 1, what="duplicate under another name")
            drop(dirs, "gauging-20250302.csv", GOOD_FILE)
            await until(lambda: driver.stats["duplicates"] == 2, what="duplicate under the same name")
            drop(dirs, "gauging-20250303.csv", "timestamp,Tank 1 level\n2025-03-03T06:00:00Z,4.0\n")
            await until(lambda: driver.stats["archived"] == 2, what="the next export")
            runner = gw.runners[str(device.pk)]
            return runner.connects, runner.connected, driver.stats.copy()

    connects, connected, stats = asyncio.run(scenario())
    assert (connects, connected) == (1, True)  # never failed or reconnected
    assert historian_rows(level) == [
        ("2025-03-01T06:00:00+00:00", 3.25, GOOD), ("2025-03-01T12:00:00+00:00", 3.5, GOOD),
        ("2025-03-02T05:00:00+00:00", 3.75, GOOD), ("2025-03-03T06:00:00+00:00", 4.0, GOOD)]
    assert historian_rows(temp) == [("2025-03-01T06:00:00+00:00", 41.5, GOOD),
                                    ("2025-03-01T12:00:00+00:00", 42.0, GOOD)]  # empty cell: no sample
    assert sorted(p.name for p in dirs.iterdir() if p.is_file()) == []
    archived = sorted(p.name for p in (dirs / "archive").iterdir())
    assert len(archived) == 4 and "gauging-20250302.csv" in archived and "gauging-copy.csv" in archived
    first = ImportedFile.objects.get(name="gauging-20250302.csv")
    assert (first.status, first.rows_accepted, first.rows_rejected, first.samples) == ("archived", 3, 0, 5)
    assert first.archived_as == str(dirs / "archive" / "gauging-20250302.csv")
    assert ImportedFile.objects.count() == 2
    dead = letters()
    assert set(dead) == {"gauging-copy.csv", "gauging-20250302.csv"}
    assert all(reason.startswith("duplicate: same content as gauging-20250302.csv") for reason in dead.values())
    assert stats["errors"] == 0 and stats["failures"] == 0


BAD_ROWS = """Timestamp,THP,CHP,Quality,Remarks
2025-03-01T06:00:00Z,101.5,55.0,GOOD,ok
2025-03-01T07:00:00Z,abc,56.0,GOOD,THP gauge fogged
yesterday,102.0,57.0,GOOD,
2025-03-01T09:00:00Z,999,58.0,GOOD,

2025-03-01T10:00:00Z,103.0,59.0,GOOD,extra,cells
2025-03-01T11:00:00Z,104.0,,uncertain,
2025-03-01T12:00:00Z,105.0,61.0,BAD,transmitter failed
2025-03-01T13:00:00Z,106.0,62.0,maybe,
"""


def test_bad_rows_are_dead_lettered_with_line_numbers_and_good_values_stored(site, dirs):
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs, quality_column="quality")
    thp = make_csv_tag(device, "W01.THP", "THP", unit="bar", eng_low=0, eng_high=300)
    chp = make_csv_tag(device, "W01.CHP", "CHP", unit="bar", eng_low=0, eng_high=100)

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            drop(dirs, "w01-daily.csv", BAD_ROWS)
            await until(lambda: driver.stats["archived"] == 1, what="import with bad rows")
            drop(dirs, "w01-next.csv", "timestamp,THP\n2025-03-02T06:00:00Z,110\n")  # still running
            await until(lambda: driver.stats["imported"] == 2, what="the next file")

    asyncio.run(scenario())
    dead = letters()
    assert dead == {
        "w01-daily.csv:1": "unknown column 'Remarks': not mapped to a tag of the device (map it, or list it in "
                           "ignore_columns)",
        "w01-daily.csv:3": "THP: 'abc' is not a number",
        "w01-daily.csv:4": "timestamp 'yesterday' does not match ISO-8601",
        "w01-daily.csv:5": "THP: 999 is above the range of W01.THP (maximum 300)",
        "w01-daily.csv:7": "6 cells for 5 columns",
        "w01-daily.csv:10": "quality 'maybe' is not GOOD, UNCERTAIN or BAD",
    }
    from scada.ingest.models import DeadLetter

    assert DeadLetter.objects.get(topic="w01-daily.csv:3").payload == \
        "2025-03-01T07:00:00Z,abc,56.0,GOOD,THP gauge fogged"
    # the good cells of a partly bad row are kept; a BAD row keeps no value
    assert historian_rows(thp) == [
        ("2025-03-01T06:00:00+00:00", 101.5, GOOD), ("2025-03-01T11:00:00+00:00", 104.0, UNCERTAIN),
        ("2025-03-01T12:00:00+00:00", None, BAD), ("2025-03-02T06:00:00+00:00", 110.0, GOOD)]
    assert historian_rows(chp) == [
        ("2025-03-01T06:00:00+00:00", 55.0, GOOD), ("2025-03-01T07:00:00+00:00", 56.0, GOOD),
        ("2025-03-01T09:00:00+00:00", 58.0, GOOD), ("2025-03-01T12:00:00+00:00", None, BAD)]
    row = ImportedFile.objects.get(name="w01-daily.csv")
    assert (row.status, row.rows_accepted, row.rows_rejected) == ("archived", 5, 5)
    assert (dirs / "archive" / "w01-daily.csv").exists()


def test_crash_between_commit_and_archive_or_before_commit_never_double_imports(site, dirs):
    """What a crash leaves behind: the ledger row IMPORTED with the file still in the directory (killed between the
    commit and the move), or PENDING with part of the file in the historian (killed before the commit)."""
    from scada import historian
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs)
    level = make_csv_tag(device, "TK2.LVL", "level", unit="m")
    text = "timestamp,level\n" + "".join(f"2025-04-01T{h:02d}:00:00Z,{1 + h / 10}\n" for h in range(12))

    async def import_once(name):
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["archived"] == 1, what=f"{name} archived")
            return driver.stats.copy()

    drop(dirs, "tank2.csv", text)
    stats = asyncio.run(import_once("tank2.csv"))
    assert stats["imported"] == 1 and len(historian_rows(level)) == 12

    # 1. killed after the commit, before the move: the file is back in the directory, the ledger says IMPORTED
    row = ImportedFile.objects.get()
    shutil.move(row.archived_as, dirs / "tank2.csv")
    ImportedFile.objects.filter(pk=row.pk).update(status="imported", archived_as="")
    stats = asyncio.run(import_once("tank2.csv"))
    assert stats["imported"] == 0 and stats["duplicates"] == 0 and stats["archived_only"] == 1
    assert len(historian_rows(level)) == 12 and letters() == {}
    row.refresh_from_db()
    assert row.status == "archived" and (dirs / "archive" / "tank2.csv").exists()

    # 2. killed before the commit finished: PENDING, and only the first 5 rows reached the historian
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scada_historian")
    rows = [(datetime(2025, 4, 1, h, tzinfo=UTC).timestamp(), level.key, 1 + h / 10, GOOD) for h in range(5)]
    historian.write_rows(rows)
    (dirs / "archive" / "tank2.csv").rename(dirs / "tank2-retry.csv")
    ImportedFile.objects.filter(pk=row.pk).update(status="pending", archived_as="", imported_at=None)
    stats = asyncio.run(import_once("tank2-retry.csv"))
    stored = historian_rows(level)
    assert len(stored) == 12 and len({ts for ts, _v, _q in stored}) == 12  # each sample exactly once
    assert stats["imported"] == 1 and stats["samples"] == 7  # only the 7 missing samples were published
    row.refresh_from_db()
    assert (row.status, row.attempts, row.name, row.samples, row.samples_skipped) == (
        "archived", 2, "tank2-retry.csv", 7, 5)
    assert letters() == {}


def test_file_still_being_written_is_not_read_until_settled(site, dirs):
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs, poll_ms=3_600_000)  # the test runs the scans itself
    rate = make_csv_tag(device, "MTR.RATE", "rate", unit="m3/d")

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["scans"] >= 1, what="the driver's first scan")
            path = dirs / "meter.csv"
            with path.open("w") as handle:  # the export tool is still writing
                handle.write("timestamp,rate\n")
                for i in range(5):
                    handle.write(f"2025-05-01T0{i}:00:00Z,{100 + i}\n")
                    handle.flush()
                    assert await driver.scan() == 0
            assert await gw.db_call(ImportedFile.objects.count) == 0
            driver.settle_s = 3600.0  # unchanged over two scans but not for settle_s yet: still left alone
            assert await driver.scan() == 0
            driver.settle_s = 0.0
            assert await driver.scan() == 1
            await until(lambda: driver.stats["imported"] == 1, what="import once settled")

    asyncio.run(scenario())
    assert [v for _ts, v, _q in historian_rows(rate)] == [100.0, 101.0, 102.0, 103.0, 104.0]


def test_units_in_the_header_or_the_mapping_are_converted_to_the_tags_unit(site, dirs):
    device = make_csv_device(site, dirs)
    thp = make_csv_tag(device, "W02.THP", "THP", unit="bar")
    temp = make_csv_tag(device, "W02.FLT", "Flowline temp", unit="degC", column_unit="degF")
    gas = make_csv_tag(device, "W02.GAS", "Gas", unit="m3/d")
    drop(dirs, "meter.csv", "timestamp,THP [psi],Flowline temp,Gas (Mscf/d),Water (furlong),THP (bar)\n"
                            "2025-06-01T00:00:00Z,1450.38,212,35.3147,1,99\n")

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["imported"] == 1, what="import")

    asyncio.run(scenario())
    assert historian_rows(thp)[0][1] == pytest.approx(100.0, rel=1e-5)
    assert historian_rows(temp)[0][1] == pytest.approx(100.0)
    assert historian_rows(gas)[0][1] == pytest.approx(1000.0, rel=1e-5)
    from scada.ingest.models import DeadLetter

    assert sorted(DeadLetter.objects.filter(topic="meter.csv:1").values_list("reason", flat=True)) == [
        "column 'THP (bar)' not imported: another column already feeds W02.THP",
        "unknown column 'Water (furlong)': not mapped to a tag of the device (map it, or list it in ignore_columns)"]
    assert DeadLetter.objects.count() == 2


def test_local_time_exports_with_a_time_zone(site, dirs):
    device = make_csv_device(site, dirs, timestamp_column="Date", timestamp_format="%m/%d/%Y %H:%M",
                             time_zone="America/Chicago", delimiter=";", decimal_comma=True)
    level = make_csv_tag(device, "TK3.LVL", "Level", unit="m")
    drop(dirs, "gauge.csv", "Date;Level\n"
                            "03/09/2024 23:30;1,25\n"  # CST (UTC-6)
                            "03/10/2024 02:30;1,50\n"  # does not exist: clocks went forward at 02:00
                            "03/10/2024 03:30;1,75\n"  # CDT (UTC-5)
                            "11/03/2024 01:30;2,00\n")  # twice that night: the first (CDT) is taken

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["imported"] == 1, what="import")

    asyncio.run(scenario())
    assert historian_rows(level) == [("2024-03-10T05:30:00+00:00", 1.25, GOOD),
                                     ("2024-03-10T08:30:00+00:00", 1.75, GOOD),
                                     ("2024-11-03T06:30:00+00:00", 2.0, GOOD)]
    assert letters() == {"gauge.csv:3": "timestamp '03/10/2024 02:30' does not exist in America/Chicago "
                                        "(clocks went forward)"}


def test_broken_files_go_to_the_error_directory_and_the_driver_keeps_running(site, dirs):
    from scada.ingest.models import DeadLetter, ImportedFile

    device = make_csv_device(site, dirs, max_file_mb=0.01)
    tag = make_csv_tag(device, "TK4.LVL", "level")
    (dirs / "a-photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    drop(dirs, "b-no-timestamp.csv", "time,level\n2025-01-01T00:00:00Z,1\n")
    drop(dirs, "c-nothing-mapped.csv", "timestamp,pressure\n2025-01-01T00:00:00Z,1\n")
    drop(dirs, "d-huge.csv", "timestamp,level\n" + "2025-01-01T00:00:00Z,1\n" * 1000)
    drop(dirs, "e-empty.csv", "")
    drop(dirs, "notes.txt", "not matching the pattern: left alone")
    drop(dirs, ".f-partial.csv", "hidden temporary file of a copy in progress: left alone")

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["errors"] == 5, what="five broken files")
            drop(dirs, "g-good.csv", "timestamp,level\n2025-01-02T00:00:00Z,2.5\n")
            await until(lambda: driver.stats["archived"] == 1, what="a good file after the broken ones")
            return gw.runners[str(device.pk)].connects

    assert asyncio.run(scenario()) == 1
    errors = sorted(p.name for p in (dirs / "error").iterdir())
    assert errors == ["a-photo.csv", "b-no-timestamp.csv", "c-nothing-mapped.csv", "d-huge.csv", "e-empty.csv"]
    assert sorted(p.name for p in dirs.iterdir() if p.is_file()) == [".f-partial.csv", "notes.txt"]
    reasons = {d.topic: d.reason for d in DeadLetter.objects.all()}
    assert reasons["a-photo.csv"].startswith("file not imported: not a text file (NUL bytes)")
    assert reasons["b-no-timestamp.csv"].startswith("file not imported: no timestamp column 'timestamp'")
    assert reasons["c-nothing-mapped.csv"].startswith("file not imported: none of the columns maps to a tag")
    assert reasons["d-huge.csv"].startswith("file not imported: larger than max_file_mb")
    assert reasons["e-empty.csv"].startswith("file not imported: empty file")
    assert len(reasons) == 5
    assert set(ImportedFile.objects.values_list("name", "status")) == {
        ("a-photo.csv", "error"), ("b-no-timestamp.csv", "error"), ("c-nothing-mapped.csv", "error"),
        ("e-empty.csv", "error"), ("g-good.csv", "archived")}  # d-huge.csv was never read
    assert historian_rows(tag) == [("2025-01-02T00:00:00+00:00", 2.5, GOOD)]


def test_a_broken_file_dropped_again_after_the_settings_are_fixed_is_imported(site, dirs):
    from scada.ingest.models import ImportedFile
    from scada.models import Device

    device = make_csv_device(site, dirs, timestamp_column="Time")
    tag = make_csv_tag(device, "TK5.LVL", "level")
    text = "gauged at,level\n2025-01-03T00:00:00Z,7.5\n"

    async def run_until(predicate):
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: predicate(driver.stats), what="file handled")

    drop(dirs, "export.csv", text)
    asyncio.run(run_until(lambda s: s["errors"] == 1))
    Device.objects.filter(pk=device.pk).update(connection={**device.connection, "timestamp_column": "Gauged at"})
    (dirs / "error" / "export.csv").rename(dirs / "export.csv")
    asyncio.run(run_until(lambda s: s["archived"] == 1))
    assert historian_rows(tag) == [("2025-01-03T00:00:00+00:00", 7.5, GOOD)]
    row = ImportedFile.objects.get()
    assert (row.status, row.attempts) == ("archived", 2)


@pytest.mark.parametrize(("fmt", "zone", "cell", "expected"), [
    ("iso", "UTC", "2025-03-01T06:00:00Z", "2025-03-01T06:00:00+00:00"),
    ("iso", "UTC", "2025-03-01 06:00:00.250-03:00", "2025-03-01T09:00:00.250000+00:00"),
    ("iso", "Europe/Oslo", "2025-07-01T06:00", "2025-07-01T04:00:00+00:00"),
    ("epoch_s", "UTC", "1740808800", "2025-03-01T06:00:00+00:00"),
    ("epoch_ms", "UTC", "1740808800500", "2025-03-01T06:00:00.500000+00:00"),
    ("%d.%m.%Y %H:%M", "Asia/Kolkata", "01.03.2025 11:30", "2025-03-01T06:00:00+00:00"),
])
def test_timestamp_formats(fmt, zone, cell, expected):
    tag = TagConfig(key=1, id="1", name="T", data_type="float32", address={"column": "v", "unit": ""})
    parsed = parse_csv(f"ts,v\n{cell},1\n".encode(), "f.csv",
                       {"timestamp_column": "ts", "timestamp_format": fmt, "time_zone": zone},
                       {"v": Column(tag)}, {})
    assert [datetime.fromtimestamp(s.ts, UTC).isoformat() for s in parsed.samples] == [expected]


def test_parser_handles_bom_cp1252_quoted_cells_and_bools():
    level = TagConfig(key=1, id="1", name="L", data_type="float32", address={"column": "Niveau", "unit": ""})
    run = TagConfig(key=2, id="2", name="R", data_type="bool", address={"column": "Pump", "unit": ""})
    text = 'timestamp;Niveau;Pump;Commentaire\n2025-01-01T00:00:00Z;"1.234,5";ON;"jaugé; ok"\n'
    parsed = parse_csv(text.encode("cp1252"), "f.csv",
                       {"delimiter": ";", "decimal_comma": True, "encoding": "cp1252",
                        "ignore_columns": ["commentaire"]},
                       {"niveau": Column(level), "pump": Column(run)}, {})
    assert [(s.key, s.value) for s in parsed.samples] == [(1, 1234.5), (2, 1.0)]
    assert parsed.letters == []
    bom = parse_csv("\ufefftimestamp,Niveau\n2025-01-01T00:00:00Z,2\n".encode(), "f.csv", {},
                    {"niveau": Column(level)}, {})
    assert [(s.key, s.value) for s in bom.samples] == [(1, 2.0)] and bom.letters == []
    with pytest.raises(FileError, match="not utf-8-sig text"):
        parse_csv("timestamp,Niveau\n2025-01-01T00:00:00Z,jaugé\n".encode("cp1252"), "f.csv", {"encoding": "utf-8-sig"},
                  {"niveau": Column(level)}, {})


def test_settings_are_validated():
    from rest_framework.exceptions import ValidationError

    from scada.protocols import csv_directories, validate_address, validate_connection

    settings = validate_connection("csv", {"directory": "/srv/exports/"})
    assert settings["directory"] == "/srv/exports" and settings["timestamp_format"] == "iso"
    assert csv_directories(settings) == ("/srv/exports", "/srv/exports/archive", "/srv/exports/error")
    assert validate_connection("csv", {"directory": "/x", "delimiter": "\\t"})["delimiter"] == "\t"
    for bad, field in [({"directory": "exports"}, "directory"), ({"directory": "/x", "time_zone": "Mars/Base"},
                                                                 "time_zone"),
                       ({"directory": "/x", "timestamp_format": "dd/mm/yyyy"}, "timestamp_format"),
                       ({"directory": "/x", "decimal_comma": True}, "delimiter"),
                       ({"directory": "/x", "archive_directory": "/x"}, "archive_directory"),
                       ({"directory": "/x", "encoding": "klingon"}, "encoding"),
                       ({"directory": "/x", "pattern": "../*.csv"}, "pattern")]:
        with pytest.raises(ValidationError) as caught:
            validate_connection("csv", bad)
        assert field in caught.value.detail, bad
    assert validate_address("csv", {"column": "THP"}) == {"column": "THP", "unit": ""}
    with pytest.raises(ValidationError):
        validate_address("csv", {"column": "THP", "unit": "parsecs per fortnight squared furlong"})


def test_rows_outside_the_retention_or_in_the_future_are_dead_lettered(site, dirs, settings):
    settings.SCADA_RETENTION_DAYS = 30
    device = make_csv_device(site, dirs)
    tag = make_csv_tag(device, "TK6.LVL", "level")
    now = time.time()
    drop(dirs, "window.csv", f"timestamp,level\n{now - 40 * 86400:.0f},1\n{now - 86400:.0f},2\n"
                             f"{now + 3 * 86400:.0f},3\n")
    connection_settings = {**device.connection, "timestamp_format": "epoch_s"}
    from scada.models import Device

    Device.objects.filter(pk=device.pk).update(connection=connection_settings)

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["archived"] == 1, what="import")

    asyncio.run(scenario())
    assert [v for _ts, v, _q in historian_rows(tag)] == [2.0]
    dead = letters()
    assert dead["window.csv:2"].endswith("is older than the historian's retention")
    assert dead["window.csv:4"].endswith("is in the future (clock or time zone wrong?)")


def test_demo_seed_and_export_are_imported(clean_historian, settings, tmp_path):
    from apps.wells.models import Field, Site
    from scada.demo_csv import DEVICE, drop_gauging_export, seed_csv_demo
    from scada.ingest.models import ImportedFile
    from scada.models import Device, Tag

    settings.VAR_DIR = tmp_path
    field = Field.objects.create(code="NORTH", name="North")
    Site.objects.create(field=field, code="PAD-A", name="Pad A")
    out = []
    write = type("Out", (), {"write": lambda self, text: out.append(text)})()
    seed_csv_demo(write)
    seed_csv_demo(write)  # idempotent: no second device, no second export
    assert Device.objects.filter(name=DEVICE).count() == 1 and "dropped gauging-PAD-A-" in out[0]
    assert "dropped" not in out[1]
    Device.objects.filter(name=DEVICE).update(poll_interval_ms=100)  # the demo scans every 10 s
    device = Device.objects.get(name=DEVICE)
    gauge = Tag.objects.get(name="PAD-A.TK1_GAUGE")

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            await until(lambda: driver.stats["archived"] == 1, what="the seeded export")
            drop_gauging_export(bad_row=True)
            await until(lambda: driver.stats["archived"] == 2, what="today's export")

    asyncio.run(scenario())
    rows = historian_rows(gauge)
    assert len(rows) == 7 and all(1.0 < value < 2.0 for _ts, value, _q in rows)  # 4.0-5.7 ft in metres
    files = ImportedFile.objects.order_by("first_seen_at")
    assert [(f.rows_accepted, f.samples, f.samples_skipped) for f in files] == [(7, 28, 0), (1, 0, 4)]
    assert list(letters().values()) == ["8 cells for 7 columns"]  # today's reading was already in the first export


def test_overlapping_exports_store_each_sample_once_and_report_corrections(site, dirs):
    """A rolling export (the last three days, every day) overlaps the previous one: the samples already stored are
    skipped, a value that differs from the stored one is reported, not overwritten."""
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs)
    meter = make_csv_tag(device, "GAS.SALES", "sales", unit="Mscf/d")

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            drop(dirs, "sales-0303.csv", "timestamp,sales\n2025-03-01,510\n2025-03-02,498\n2025-03-03,505\n")
            await until(lambda: driver.stats["archived"] == 1, what="first export")
            drop(dirs, "sales-0304.csv", "timestamp,sales\n2025-03-02,498\n2025-03-03,507\n2025-03-04,512\n")
            await until(lambda: driver.stats["archived"] == 2, what="overlapping export")

    asyncio.run(scenario())
    assert [(ts[:10], v) for ts, v, _q in historian_rows(meter)] == [
        ("2025-03-01", 510.0), ("2025-03-02", 498.0), ("2025-03-03", 505.0), ("2025-03-04", 512.0)]
    assert letters() == {"sales-0304.csv:3": "GAS.SALES at 2025-03-03 00:00:00 UTC: 507.0 differs from the value "
                                             "already stored (505.0); not overwritten"}
    second = ImportedFile.objects.get(name="sales-0304.csv")
    assert (second.rows_accepted, second.samples, second.samples_skipped) == (3, 1, 2)


def test_ledger_is_read_only_in_admin(site, dirs, admin_client):
    from scada.ingest.models import ImportedFile

    device = make_csv_device(site, dirs)
    row = ImportedFile.objects.create(device=device, sha256="a" * 64, name="gauging-1.csv", status="archived",
                                      rows_accepted=7)
    listing = admin_client.get("/admin/ingest/importedfile/")
    assert listing.status_code == 200 and "gauging-1.csv" in listing.content.decode()
    assert admin_client.get(f"/admin/ingest/importedfile/{row.pk}/change/").status_code == 200  # view only
    assert admin_client.post(f"/admin/ingest/importedfile/{row.pk}/change/", {"name": "x"}).status_code == 403
    assert admin_client.get("/admin/ingest/importedfile/add/").status_code == 403


def test_a_dropped_database_session_fails_one_scan_and_the_next_scan_imports(site, dirs):
    """PostgreSQL restarted or the session was killed: the driver's database thread must connect again instead of
    failing every later file on its dead connection."""
    from scada.ingest.models import ImportedFile

    if connection.vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    device = make_csv_device(site, dirs)
    level = make_csv_tag(device, "TK1.LVL", "Tank 1 level", unit="m", eng_low=0, eng_high=10)
    make_csv_tag(device, "TK1.TEMP", "oil TEMP", unit="degC")

    def backend_pid():
        from django.db import connection as thread_connection

        thread_connection.ensure_connection()
        return thread_connection.connection.info.backend_pid

    def terminate(pid):
        from django.db import connection as thread_connection

        try:
            with thread_connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            thread_connection.close()

    async def scenario():
        async with gateway() as gw:
            driver = driver_of(gw, device)
            pid = await driver._db_call(backend_pid)
            await asyncio.to_thread(terminate, pid)
            # the first query on the dead session fails outside a transaction (atomic() would drop the connection
            # itself on its failed rollback; a plain query, as the historian lookup of a file, does not)
            with pytest.raises(DatabaseError):
                await driver._db_call(_tag_units, [level.key])
            drop(dirs, "gauging-20250302.csv", GOOD_FILE)
            await until(lambda: driver.stats["imported"] == 1, what="import on a new session")
            assert await driver._db_call(backend_pid) != pid

    asyncio.run(scenario())
    assert ImportedFile.objects.get(device=device).status == ImportedFile.Status.ARCHIVED
    assert len(historian_rows(level)) == 3


def test_old_rows_go_to_the_historian_only_and_recent_rows_also_feed_the_live_values(site, dirs, settings):
    """An export's rows are history: importing yesterday's file must not make its values the tags' current values nor
    hand them to the sample hooks (alarm engine, live HMI publisher), as if they had been measured now. A row within
    SCADA_LIVE_MAX_AGE_S of now still feeds them, and an older row imported after a newer one never moves the
    current value back. The historian gets every row."""
    from scada.hmi.publisher import LivePublisher

    settings.SCADA_LIVE_MAX_AGE_S = 300
    device = make_csv_device(site, dirs)
    level = make_csv_tag(device, "TK9.LVL", "level", unit="m")
    now = time.time()

    def export(*rows):
        return "timestamp,level\n" + "".join(f"{datetime.fromtimestamp(now - age, UTC).isoformat()},{value}\n"
                                             for age, value in rows)

    seen = []
    live = LivePublisher(tick_s=3600)  # no tick during the test: what it would send stays in ``pending``

    async def scenario():
        gw = Gateway(flush_ms=20, reload_s=0.2, hooks=[lambda samples, g: seen.extend(samples), live])
        stop = asyncio.Event()
        with acting(channel=Channel.GATEWAY):
            task = asyncio.create_task(gw.run(stop))
        try:
            await until(lambda: gw.runners and all(r.connected for r in gw.runners.values()), what="connected")
            driver = driver_of(gw, device)
            drop(dirs, "a-yesterday.csv", export((86400, 1.0), (43200, 2.0)))
            await until(lambda: driver.stats["imported"] == 1, what="yesterday's export")
            after_old = gw.store.get(level.key), list(seen), dict(live.pending)
            drop(dirs, "b-today.csv", export((3600, 3.0), (60, 4.0)))
            await until(lambda: driver.stats["imported"] == 2, what="today's export")
            after_recent = gw.store.get(level.key), [s.value for s in seen], dict(live.pending)
            drop(dirs, "c-late.csv", export((120, 3.5)))  # recent, but older than the value already live
            await until(lambda: driver.stats["imported"] == 3, what="a late export")
            return after_old, after_recent, (gw.store.get(level.key), [s.value for s in seen]), gw.stats
        finally:
            stop.set()
            await task
            if live._task is not None:
                live._task.cancel()

    after_old, after_recent, after_late, stats = asyncio.run(scenario())
    assert after_old == (None, [], {})
    assert after_recent[0][:2] == (4.0, GOOD) and after_recent[1] == [4.0]
    assert after_recent[2][level.key][:2] == (4.0, GOOD)
    assert after_late[0][:2] == (4.0, GOOD) and after_late[1] == [4.0]
    assert stats.historical == 4
    assert [value for _ts, value, _q in historian_rows(level)] == [1.0, 2.0, 3.0, 3.5, 4.0]
