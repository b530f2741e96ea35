"""Protocol drivers, one module per protocol, behind scada.drivers.base.Driver.

``DRIVERS`` maps a protocol (scada.choices.Protocol) to the dotted path of its driver class; a later module adds its
own with ``register_driver("opcua", "scada.drivers.opcua.OpcUaDriver")``.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

DRIVERS: dict[str, str] = {
    "modbus_tcp": "scada.drivers.modbus.ModbusDriver",
    "modbus_rtu": "scada.drivers.modbus.ModbusDriver",
    "mqtt": "scada.drivers.mqtt.MqttDriver",
    "csv": "scada.drivers.csv_watcher.CsvDriver",
    "opcua": "scada.drivers.opcua.OpcUaDriver",
}


def register_driver(protocol: str, path: str) -> None:
    DRIVERS[protocol] = path


def driver_class(protocol: str):
    path = DRIVERS.get(protocol)
    return import_string(path) if path else None
