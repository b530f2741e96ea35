"""The Modbus driver against a real pymodbus server: block reads, word orders, 4-20 mA/NE43, failures, writes."""

import asyncio

import pytest

from scada.drivers.base import WriteError
from scada.drivers.modbus import ModbusDriver, decode, encode, plan_blocks
from scada.runtime.config import DeviceConfig, TagConfig
from scada.runtime.samples import BAD, GOOD
from tests.scada.servers import ModbusServerThread

_key = iter(range(1, 10**6))


def tag(register_type, address, data_type="uint16", name=None, **kw):
    key = next(_key)
    return TagConfig(key=key, id=str(key), name=name or f"T{key}", data_type=data_type,
                     address={"register_type": register_type, "address": address}, **kw)


def device(tags, port=1502, protocol="modbus_tcp", **settings):
    base = {"host": "127.0.0.1", "port": port, "unit_id": 1, "timeout_s": 0.5, "word_order": "ABCD",
            "address_base": 0, "max_block_registers": 125, "max_block_coils": 2000, "max_gap": 0}
    return DeviceConfig(id="d", name="RTU-TEST", protocol=protocol, settings={**base, **settings},
                        poll_interval_s=0.1, stale_after_intervals=3, tags=tuple(tags))


@pytest.fixture
def server():
    s = ModbusServerThread().start()
    yield s
    s.close()


def test_block_planning_respects_limits_and_contiguity():
    tags = [tag("holding", 2 * i, "float32") for i in range(70)]  # 140 contiguous registers
    tags += [tag("holding", 500), tag("holding", 502)]  # a gap of one register
    tags += [tag("coil", i, "bool") for i in range(2100)]
    tags += [tag("input", 10, "float64"), tag("input", 14, "int32")]
    blocks = plan_blocks(tags, 125, 2000, 0)
    holding = [(b.start, b.count) for b in blocks if b.register_type == "holding"]
    assert holding == [(0, 124), (124, 16), (500, 1), (502, 1)]  # never split a float32 across two requests
    assert [(b.start, b.count) for b in blocks if b.register_type == "coil"] == [(0, 2000), (2000, 100)]
    assert [(b.start, b.count) for b in blocks if b.register_type == "input"] == [(10, 6)]
    assert [(b.start, b.count) for b in plan_blocks(tags[70:72], 125, 2000, 1)] == [(500, 3)]
    assert max(b.count for b in blocks if b.register_type != "coil") <= 125


@pytest.mark.parametrize("order,registers", [("ABCD", [0x4148, 0x0000]), ("CDAB", [0x0000, 0x4148]),
                                             ("BADC", [0x4841, 0x0000]), ("DCBA", [0x0000, 0x4841])])
def test_word_orders(order, registers):
    assert decode(registers, "float32", order) == 12.5
    assert encode(12.5, "float32", order) == registers
    assert decode(encode(-123456789, "int32", order), "int32", order) == -123456789
    assert decode(encode(3.141592653589793, "float64", order), "float64", order) == 3.141592653589793


def test_reads_decode_scale_and_flag_faults(server):
    tags = [
        tag("holding", 0, "float32", name="THP", ),
        tag("holding", 2, "int16", name="NEG"),
        tag("holding", 3, "uint32", name="COUNTER"),
        tag("holding", 5, "float64", name="F64"),
        tag("input", 0, "uint16", name="PT_OK", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0,
            eng_high=200),
        tag("input", 1, "uint16", name="PT_LOW", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0,
            eng_high=200),
        tag("input", 2, "uint16", name="PT_HIGH", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0,
            eng_high=200),
        tag("input", 3, "uint16", name="PT_EDGE", scaling="ma_4_20", raw_low=4000, raw_high=20000, eng_low=0,
            eng_high=200),
        tag("input", 4, "int16", name="LIN", scaling="linear", raw_low=0, raw_high=1000, eng_low=-50, eng_high=50),
        tag("coil", 7, "bool", name="RUN"),
        tag("discrete_input", 3, "bool", name="DOOR"),
    ]
    server.set("holding", 0, encode(42.25, "float32", "CDAB"))
    server.set("holding", 2, encode(-7, "int16"))
    server.set("holding", 3, encode(4_000_000_000, "uint32", "CDAB"))
    server.set("holding", 5, encode(-2.5e-3, "float64", "CDAB"))
    server.set("input", 0, [12000, 3000, 21200, 20900, 750])  # 12 mA, 3.0 mA, 21.2 mA, 20.9 mA
    server.set("coil", 7, [True])
    server.set("discrete_input", 3, [True])

    async def scenario():
        driver = ModbusDriver(device(tags, server.port, word_order="CDAB"))
        await driver.connect()
        samples = {s.key: s for s in await driver.read()}
        requests = driver.requests
        await driver.close()
        return samples, requests

    samples, requests = asyncio.run(scenario())
    by_name = {t.name: samples[t.key] for t in tags}
    assert requests == 4  # holding 0-8, input 0-4, coil 7, discrete 3
    assert by_name["THP"].value == 42.25 and by_name["THP"].quality == GOOD
    assert by_name["NEG"].value == -7
    assert by_name["COUNTER"].value == 4_000_000_000
    assert by_name["F64"].value == -2.5e-3
    assert by_name["PT_OK"].value == pytest.approx(100.0) and by_name["PT_OK"].quality == GOOD
    assert (by_name["PT_LOW"].value, by_name["PT_LOW"].quality) == (None, BAD)  # NE43: < 3.6 mA
    assert (by_name["PT_HIGH"].value, by_name["PT_HIGH"].quality) == (None, BAD)  # NE43: > 21 mA
    assert by_name["PT_EDGE"].value == pytest.approx(211.25) and by_name["PT_EDGE"].quality == GOOD
    assert by_name["LIN"].value == pytest.approx(25.0)
    assert by_name["RUN"].value == 1.0 and by_name["DOOR"].value == 1.0


def test_one_based_addressing_reads_the_register_below(server):
    server.set("holding", 9, [1234])
    t = tag("holding", 10, "uint16")

    async def scenario():
        driver = ModbusDriver(device([t], server.port, address_base=1))
        await driver.connect()
        try:
            return (await driver.read())[0]
        finally:
            await driver.close()

    assert asyncio.run(scenario()).value == 1234


def test_exception_response_turns_only_that_block_bad(server):
    good, missing = tag("holding", 0), tag("holding", 506, "float64")  # 506..509 exist (table of 512)

    async def scenario():
        beyond = tag("holding", 511, "float32")  # needs 511-512: past the end -> exception response
        driver = ModbusDriver(device([good, missing, beyond], server.port))
        await driver.connect()
        try:
            return {s.key: s for s in await driver.read()}, beyond
        finally:
            await driver.close()

    samples, beyond = asyncio.run(scenario())
    assert samples[good.key].quality == GOOD and samples[missing.key].quality == GOOD
    assert (samples[beyond.key].value, samples[beyond.key].quality) == (None, BAD)


def test_stopped_server_raises_connection_error_and_connect_fails(server):
    t = tag("holding", 0)

    async def scenario():
        driver = ModbusDriver(device([t], server.port, timeout_s=0.3))
        await driver.connect()
        await driver.read()
        server.stop()
        with pytest.raises(ConnectionError):
            for _ in range(3):
                await driver.read()
                await asyncio.sleep(0.05)
        await driver.close()
        with pytest.raises(ConnectionError):
            await driver.connect()
        server.start()
        await driver.connect()
        value = (await driver.read())[0]
        await driver.close()
        return value

    assert asyncio.run(scenario()).quality == GOOD


def test_writes_use_fc5_fc6_fc16(server):
    coil = tag("coil", 3, "bool", writable=True)
    single = tag("holding", 10, "int16", writable=True)
    double = tag("holding", 20, "float32", writable=True)
    scaled = tag("holding", 30, "uint16", writable=True, scaling="linear", raw_low=0, raw_high=10000, eng_low=0,
                 eng_high=100)
    read_only = tag("input", 0)
    seen = []

    async def scenario():
        driver = ModbusDriver(device([coil, single, double, scaled, read_only], server.port, word_order="CDAB"))
        await driver.connect()
        original = driver.client.execute

        async def spy(no_response_expected, request):
            seen.append(request.function_code)
            return await original(no_response_expected, request)

        driver.client.execute = spy
        await driver.write(coil, 1)
        await driver.write(single, -12)
        await driver.write(double, 55.5)
        await driver.write(scaled, 42.5)
        with pytest.raises(WriteError):
            await driver.write(read_only, 1)
        with pytest.raises(WriteError):
            await driver.write(single, 1e9)
        await driver.close()

    asyncio.run(scenario())
    assert seen == [5, 6, 16, 6]
    assert server.get("coil", 3)[0] is True
    assert decode(server.get("holding", 10), "int16") == -12
    assert decode(server.get("holding", 20, 2), "float32", "CDAB") == 55.5
    assert server.get("holding", 30) == [4250]


def test_a_device_that_accepts_but_never_answers_times_out_as_connection_error():
    """A hung RTU (TCP accepted, no reply): the request times out and the poll raises, so the gateway marks Bad."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    t = tag("holding", 0)

    async def scenario():
        driver = ModbusDriver(device([t], port, timeout_s=0.2))
        await driver.connect()
        try:
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(driver.read(), 5)
        finally:
            await driver.close()

    try:
        asyncio.run(scenario())
    finally:
        listener.close()
