"""Simulated field devices: Modbus RTUs (TCP, or RTU on a serial line/pty) serving realistic wellsite signals.

``ModbusSlave`` is a real pymodbus server (the tests and ``manage.py simulate_field`` use it; nothing fakes the
protocol). ``FieldSimulator`` builds one slave per Modbus device of the configuration and drives each tag from a
signal model chosen by its name (W01.THP -> tubing head pressure, ...), encoded exactly as the tag says (data type,
word order, 4-20 mA counts), so the gateway decodes what the simulator meant.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field

from scada.choices import RegisterType
from scada.drivers.modbus import BIT_TYPES, encode, tag_offset
from scada.scaling import to_raw

log = logging.getLogger("scada.simulator")

FC = {RegisterType.COIL: 1, RegisterType.DISCRETE_INPUT: 2, RegisterType.HOLDING: 3, RegisterType.INPUT: 4}


class ModbusSlave:
    """A pymodbus server with 4 separate tables (coils, discrete inputs, holding, input registers) of ``size``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, serial_port: str | None = None,
                 unit: int = 1, size: int = 4096, baudrate: int = 19200):
        self.host, self.port, self.serial_port, self.unit, self.size = host, port, serial_port, unit, size
        self.baudrate = baudrate
        self.server = None
        self.task = None

    def _device(self):
        from pymodbus.simulator import DataType, SimData, SimDevice

        bits = [SimData(0, count=self.size, values=False, datatype=DataType.BITS)]
        regs = [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)]
        return SimDevice(id=self.unit, simdata=(bits, [SimData(0, count=self.size, values=False,
                                                                datatype=DataType.BITS)], regs,
                                                 [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)]))

    async def start(self) -> ModbusSlave:
        from pymodbus import FramerType
        from pymodbus.server import ModbusSerialServer, ModbusTcpServer

        if self.serial_port:
            self.server = ModbusSerialServer([self._device()], framer=FramerType.RTU, port=self.serial_port,
                                             baudrate=self.baudrate)
        else:
            self.server = ModbusTcpServer([self._device()], address=(self.host, self.port))
        await self.server.serve_forever(background=True)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()
            self.server = None

    async def set(self, register_type: str, offset: int, values) -> None:
        await self.server.async_setValues(self.unit, FC[register_type], offset, list(values))

    async def get(self, register_type: str, offset: int, count: int = 1):
        return await self.server.async_getValues(self.unit, FC[register_type], offset, count)


def encode_tag(tag, value: float, word_order: str) -> list:
    """Registers (or bits) that make ``tag`` read ``value`` (engineering units)."""
    if tag.address["register_type"] in BIT_TYPES:
        return [bool(value)]
    return encode(to_raw(tag, value), tag.data_type, word_order)


def encode_raw(tag, raw: float, word_order: str) -> list:
    return encode(raw, tag.data_type, word_order)


# -- signal models ------------------------------------------------------------------------------------------------
@dataclass
class Signal:
    """A drifting value: mean-reverting random walk around ``base`` plus a slow daily-ish sine."""

    base: float
    noise: float
    low: float
    high: float
    period_s: float = 900.0
    amplitude: float = 0.0
    value: float = field(init=False)

    def __post_init__(self):
        self.value = self.base

    def step(self, t: float, dt: float) -> float:
        target = self.base + self.amplitude * math.sin(2 * math.pi * t / self.period_s)
        self.value += (target - self.value) * min(1.0, dt / 30.0) + random.gauss(0, self.noise) * math.sqrt(dt)
        self.value = min(self.high, max(self.low, self.value))
        return self.value


SIGNALS = {  # tag name suffix -> (base, noise, amplitude) in engineering units
    "THP": (42.0, 0.3, 3.0),      # tubing head pressure, bar
    "CHP": (18.0, 0.15, 1.0),     # casing head pressure, bar
    "FLP": (12.0, 0.2, 0.8),      # flowline pressure, bar
    "FLT": (48.0, 0.1, 2.0),      # flowline temperature, degC
    "CHOKE": (32.0, 0.0, 0.0),    # choke opening, % (setpoint)
    "ESP_AMPS": (38.0, 0.4, 2.0),  # ESP motor current, A
    "ESP_HZ": (52.0, 0.05, 0.5),  # ESP frequency, Hz
    "PIP": (85.0, 0.3, 4.0),      # pump intake pressure, bar
    "TANK_LVL": (45.0, 0.05, 20.0),  # tank level, %
    "RUN": (1.0, 0.0, 0.0),       # pump running (coil/discrete)
}


def signal_for(tag) -> Signal:
    suffix = tag.name.rsplit(".", 1)[-1].upper()
    base, noise, amplitude = SIGNALS.get(suffix, (50.0, 0.2, 5.0))
    low = tag.eng_low if tag.eng_low is not None else -1e9
    high = tag.eng_high if tag.eng_high is not None else 1e9
    if tag.eng_low is not None and tag.eng_high is not None and not (low <= base <= high):
        base = (low + high) / 2
    return Signal(base=base, noise=noise, low=low, high=high, amplitude=amplitude,
                  period_s=random.uniform(600, 1800))


class SimulatedRtu:
    """One simulated RTU for one Modbus device configuration, with fault injection."""

    def __init__(self, device, fast: bool = False):
        self.device = device
        s = device.settings
        self.word_order = s.get("word_order", "ABCD")
        self.address_base = int(s.get("address_base", 0))
        self.slave = ModbusSlave(host="127.0.0.1" if device.protocol == "modbus_tcp" else None,
                                 port=int(s.get("port", 502)), unit=int(s.get("unit_id", 1)),
                                 serial_port=s.get("serial_port") if device.protocol == "modbus_rtu" else None,
                                 size=max([tag_offset(t, self.address_base) for t in device.tags] + [0]) + 8)
        self.signals = {t.key: signal_for(t) for t in device.tags}
        self.faults: set[str] = set()  # "comm-loss", "out-of-range"
        self.running = False

    async def start(self):
        await self.slave.start()
        self.running = True

    async def stop(self):
        await self.slave.stop()
        self.running = False

    async def update(self, t: float, dt: float) -> None:
        if not self.running:
            return
        for tag in self.device.tags:
            if tag.writable and tag.address["register_type"] in (RegisterType.HOLDING, RegisterType.COIL):
                continue  # setpoints keep what the gateway wrote
            value = self.signals[tag.key].step(t, dt)
            offset = tag_offset(tag, self.address_base)
            if "out-of-range" in self.faults and tag.scaling == "ma_4_20":
                values = encode_raw(tag, tag.raw_low - (tag.raw_high - tag.raw_low) * 0.05, self.word_order)
            elif tag.address["register_type"] in BIT_TYPES:
                values = [value >= 0.5]
            else:
                values = encode_tag(tag, value, self.word_order)
            await self.slave.set(tag.address["register_type"], offset, values)

    async def inject(self, fault: str) -> None:
        if fault == "comm-loss":
            if self.running:
                await self.stop()
        elif fault == "ok":
            self.faults.clear()
            if not self.running:
                await self.start()
        else:
            self.faults.add(fault)

    async def initialise_setpoints(self) -> None:
        for tag in self.device.tags:
            if tag.writable:
                await self.slave.set(tag.address["register_type"], tag_offset(tag, self.address_base),
                                     encode_tag(tag, self.signals[tag.key].base, self.word_order)
                                     if tag.address["register_type"] not in BIT_TYPES else [True])


class FieldSimulator:
    """All simulated RTUs of the configuration, updated every ``tick`` seconds."""

    def __init__(self, devices, tick: float = 0.5):
        self.rtus = {d.name: SimulatedRtu(d) for d in devices if d.protocol in ("modbus_tcp", "modbus_rtu")}
        self.tick = tick

    async def start(self):
        for rtu in self.rtus.values():
            await rtu.start()
            await rtu.initialise_setpoints()

    async def inject(self, fault: str, device_name: str) -> None:
        await self.rtus[device_name].inject(fault)

    async def run(self, stop: asyncio.Event) -> None:
        t0 = last = time.monotonic()
        while not stop.is_set():
            current = time.monotonic()
            for rtu in self.rtus.values():
                await rtu.update(current - t0, current - last)
            last = current
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                pass
        for rtu in self.rtus.values():
            await rtu.stop()
