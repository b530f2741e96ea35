"""Modbus TCP and RTU (pymodbus async clients).

- Tags of a device are coalesced into block reads (``plan_blocks``): contiguous ranges of one register type, up to
  125 registers / 2000 coils per request (device settings may lower it, and ``max_gap`` may join near ranges).
- One request at a time per connection (the blocks of a device are read one after the other); devices run in
  parallel, each in its own gateway task.
- 32/64-bit values are decoded with the device's word order (ABCD, CDAB, BADC, DCBA); addresses are 0- or 1-based.
- A block whose read fails (exception response, timeout) turns its tags Bad with no value; a lost connection
  raises ConnectionError so the gateway marks everything Bad and reconnects with backoff.
- Writes: FC5 for a coil, FC6 for a 16-bit register, FC16 for 32/64-bit values.
"""

from __future__ import annotations

import asyncio
import math
import struct
from dataclasses import dataclass, field

from scada.choices import REGISTER_COUNT, DataType, RegisterType
from scada.drivers.base import Driver, WriteError
from scada.runtime.config import TagConfig
from scada.runtime.samples import BAD, Sample, now
from scada.scaling import to_engineering, to_raw

BIT_TYPES = (RegisterType.COIL, RegisterType.DISCRETE_INPUT)
_FORMATS = {DataType.INT16: ">h", DataType.UINT16: ">H", DataType.INT32: ">i", DataType.UINT32: ">I",
            DataType.FLOAT32: ">f", DataType.FLOAT64: ">d"}


# -- word orders ------------------------------------------------------------------------------------------------
def _order_bytes(data: bytes, word_order: str) -> bytes:
    """Reorder bytes as received (register by register, each big-endian) to big-endian ABCD (and its 64-bit form).

    ABCD: as is. CDAB: words swapped. BADC: bytes swapped inside each word. DCBA: both (fully little-endian).
    For 64-bit values the same rule extends to four words (CDAB -> words in reverse order, etc.).
    """
    if word_order == "ABCD" or len(data) == 2:
        return data
    words = [data[i:i + 2] for i in range(0, len(data), 2)]
    if word_order in ("CDAB", "DCBA"):
        words.reverse()
    if word_order in ("BADC", "DCBA"):
        words = [w[::-1] for w in words]
    return b"".join(words)


def decode(registers: list[int], data_type: str, word_order: str = "ABCD") -> float:
    data = b"".join(struct.pack(">H", r & 0xFFFF) for r in registers)
    return float(struct.unpack(_FORMATS[data_type], _order_bytes(data, word_order))[0])


def encode(value: float, data_type: str, word_order: str = "ABCD") -> list[int]:
    fmt = _FORMATS[data_type]
    if data_type not in (DataType.FLOAT32, DataType.FLOAT64):
        value = int(round(value))
    try:
        data = struct.pack(fmt, value)
    except struct.error as exc:
        raise WriteError(f"{value} does not fit in {data_type}") from exc
    # the reordering is its own inverse for 2 words; for 4 words too (reverse/swap are involutions)
    data = _order_bytes(data, word_order)
    return [struct.unpack(">H", data[i:i + 2])[0] for i in range(0, len(data), 2)]


# -- block planning -----------------------------------------------------------------------------------------------
@dataclass
class Block:
    register_type: str
    start: int  # protocol offset (0-based)
    count: int
    items: list[tuple[TagConfig, int]] = field(default_factory=list)  # (tag, offset within the block)


def tag_offset(tag: TagConfig, address_base: int) -> int:
    return int(tag.address["address"]) - int(address_base)


def plan_blocks(tags, max_registers: int = 125, max_coils: int = 2000, max_gap: int = 0,
                address_base: int = 0) -> list[Block]:
    """Coalesce tags into as few reads as possible without crossing the per-request limits."""
    blocks: list[Block] = []
    by_type: dict[str, list[TagConfig]] = {}
    for tag in tags:
        by_type.setdefault(tag.address["register_type"], []).append(tag)
    for register_type, group in by_type.items():
        limit = max_coils if register_type in BIT_TYPES else max_registers
        group.sort(key=lambda t: tag_offset(t, address_base))
        current: Block | None = None
        for tag in group:
            start = tag_offset(tag, address_base)
            width = 1 if register_type in BIT_TYPES else REGISTER_COUNT[tag.data_type]
            if current is not None:
                end = current.start + current.count
                new_end = max(end, start + width)
                if start <= end + max_gap and new_end - current.start <= limit:
                    current.count = new_end - current.start
                    current.items.append((tag, start - current.start))
                    continue
            current = Block(register_type, start, width, [(tag, 0)])
            blocks.append(current)
    return blocks


# -- the driver ---------------------------------------------------------------------------------------------------
class ModbusDriver(Driver):
    polled = True

    def __init__(self, device, publish=None):
        super().__init__(device, publish)
        s = device.settings
        self.unit = int(s.get("unit_id", 1))
        self.word_order = s.get("word_order", "ABCD")
        self.address_base = int(s.get("address_base", 0))
        self.timeout = float(s.get("timeout_s", 2.0))
        self.blocks = plan_blocks(device.tags, s.get("max_block_registers", 125), s.get("max_block_coils", 2000),
                                  s.get("max_gap", 0), self.address_base)
        self.client = None
        self.lock = asyncio.Lock()  # one request at a time on this connection (reads and writes)
        self.requests = 0

    def _make_client(self):
        from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

        s = self.device.settings
        common = {"timeout": self.timeout, "retries": 0, "reconnect_delay": 0, "reconnect_delay_max": 0}
        if self.device.protocol == "modbus_rtu":
            return AsyncModbusSerialClient(s["serial_port"], baudrate=int(s["baudrate"]), parity=s["parity"],
                                           stopbits=int(s["stopbits"]), bytesize=int(s["bytesize"]), **common)
        return AsyncModbusTcpClient(s["host"], port=int(s["port"]), **common)

    async def connect(self) -> None:
        await self.close()
        self.client = self._make_client()
        ok = await self.client.connect()
        if not ok:
            self.client.close()
            self.client = None
            raise ConnectionError(f"{self.device.name}: cannot connect")

    async def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    async def _request(self, coro_factory):
        from pymodbus.exceptions import ConnectionException, ModbusIOException

        if not self.connected:
            raise ConnectionError(f"{self.device.name}: not connected")
        async with self.lock:
            self.requests += 1
            try:
                return await coro_factory()
            except (TimeoutError, ConnectionException, ModbusIOException, OSError) as exc:
                raise ConnectionError(f"{self.device.name}: {exc}") from exc

    async def read_block(self, block: Block):
        c = self.client
        method = {RegisterType.COIL: c.read_coils, RegisterType.DISCRETE_INPUT: c.read_discrete_inputs,
                  RegisterType.HOLDING: c.read_holding_registers, RegisterType.INPUT: c.read_input_registers}
        response = await self._request(lambda: method[block.register_type](
            block.start, count=block.count, device_id=self.unit))
        if response.isError():
            return None
        return response.bits if block.register_type in BIT_TYPES else response.registers

    async def read(self) -> list[Sample]:
        samples: list[Sample] = []
        for block in self.blocks:
            ts = now()
            try:
                data = await self.read_block(block)
            except ConnectionError:
                # the rest of this poll is Bad too; the gateway reconnects
                raise
            if data is None:
                samples.extend(Sample(tag.key, ts, None, BAD) for tag, _ in block.items)
                continue
            for tag, offset in block.items:
                if block.register_type in BIT_TYPES:
                    samples.append(Sample(tag.key, ts, 1.0 if data[offset] else 0.0))
                    continue
                raw = decode(data[offset:offset + REGISTER_COUNT[tag.data_type]], tag.data_type, self.word_order)
                value, quality = to_engineering(tag, raw)
                samples.append(Sample(tag.key, ts, value, quality))
        return samples

    async def write(self, tag: TagConfig, value: float) -> None:
        register_type = tag.address["register_type"]
        offset = tag_offset(tag, self.address_base)
        c = self.client
        if c is None:
            raise WriteError("device not connected")
        try:
            if register_type == RegisterType.COIL:
                response = await self._request(lambda: c.write_coil(offset, bool(value), device_id=self.unit))
            elif register_type == RegisterType.HOLDING:
                raw = to_raw(tag, value)
                if not math.isfinite(raw):
                    raise WriteError("value is not finite")
                registers = encode(raw, tag.data_type, self.word_order)
                if len(registers) == 1:
                    response = await self._request(lambda: c.write_register(offset, registers[0], device_id=self.unit))
                else:
                    response = await self._request(lambda: c.write_registers(offset, registers, device_id=self.unit))
            else:
                raise WriteError(f"{register_type} is read-only")
        except ConnectionError as exc:
            raise WriteError(str(exc)) from exc
        if response.isError():
            raise WriteError(f"device answered {response}")
