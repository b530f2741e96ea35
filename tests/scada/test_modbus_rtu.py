"""Modbus RTU over a serial line: a socat pseudo-terminal pair, a real pymodbus serial server on one end and the
gateway's driver on the other (CDAB floats, 4-20 mA with NE43 faults, writes, a server that stops and comes back)."""

import asyncio
import shutil
import subprocess
import time

import pytest

from scada.drivers.modbus import ModbusDriver, decode, encode
from scada.runtime.config import DeviceConfig, TagConfig
from scada.runtime.samples import BAD, GOOD
from tests.scada.servers import ModbusServerThread

pytestmark = pytest.mark.skipif(shutil.which("socat") is None,
                                reason="socat is not installed (make test installs it: deploy/scripts/bootstrap.sh)")


@pytest.fixture
def pty_pair(tmp_path):
    a, b = tmp_path / "rtu-server", tmp_path / "rtu-client"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (a.exists() and b.exists()):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("socat did not create the pseudo-terminal pair")
        time.sleep(0.02)
    yield str(a), str(b)
    proc.terminate()
    proc.wait(5)


def _tag(key, register_type, address, data_type, **kw):
    return TagConfig(key=key, id=str(key), name=f"T{key}", data_type=data_type,
                     address={"register_type": register_type, "address": address}, **kw)


def test_rtu_over_pty_reads_writes_and_recovers(pty_pair):
    server_end, client_end = pty_pair
    server = ModbusServerThread(serial_port=server_end, unit=7, size=64).start()
    tags = [
        _tag(1, "holding", 0, "float32"),
        _tag(2, "input", 0, "uint16", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0, eng_high=100),
        _tag(3, "input", 1, "uint16", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0, eng_high=100),
        _tag(4, "holding", 10, "float32", writable=True),
        _tag(5, "coil", 2, "bool", writable=True),
    ]
    config = DeviceConfig(id="rtu", name="RTU-SERIAL", protocol="modbus_rtu", poll_interval_s=0.1,
                          stale_after_intervals=3, tags=tuple(tags),
                          settings={"serial_port": client_end, "baudrate": 19200, "parity": "N", "stopbits": 1,
                                    "bytesize": 8, "unit_id": 7, "timeout_s": 0.5, "word_order": "CDAB",
                                    "address_base": 0, "max_block_registers": 125, "max_block_coils": 2000,
                                    "max_gap": 0})
    try:
        server.set("holding", 0, encode(-17.75, "float32", "CDAB"))
        server.set("input", 0, [8000, 22000])  # 8 mA -> 25 %, 22 mA -> NE43 fault

        async def scenario():
            driver = ModbusDriver(config)
            await driver.connect()
            first = {s.key: s for s in await driver.read()}
            await driver.write(tags[3], 12.5)  # FC16
            await driver.write(tags[4], 1)  # FC5
            written = (decode(server.get("holding", 10, 2), "float32", "CDAB"), server.get("coil", 2)[0])
            server.stop()  # the slave goes silent: the request times out
            with pytest.raises(ConnectionError):
                await driver.read()
            await driver.close()
            server.start()
            server.set("holding", 0, encode(3.25, "float32", "CDAB"))
            await driver.connect()
            again = {s.key: s for s in await driver.read()}
            await driver.close()
            return first, again, written

        first, again, written = asyncio.run(scenario())
        assert written == (12.5, True)
        assert (first[1].value, first[1].quality) == (-17.75, GOOD)
        assert first[2].value == pytest.approx(25.0) and first[2].quality == GOOD
        assert (first[3].value, first[3].quality) == (None, BAD)
        assert (again[1].value, again[1].quality) == (3.25, GOOD)
    finally:
        server.close()
