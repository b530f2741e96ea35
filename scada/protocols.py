"""Per-protocol settings of devices and tag addresses, validated by DRF serializers over JSONFields.

``validate_connection(protocol, data)`` and ``validate_address(protocol, data, connection)`` return the normalised
settings (defaults filled in) or raise ``rest_framework.exceptions.ValidationError`` with one message per bad field
(``{"host": ["This field is required."]}``), so the API answers ``connection.host`` and the admin shows the same text.
A driver reads these normalised dicts, never the raw JSON.
"""

from __future__ import annotations

import re

from rest_framework import serializers

from scada.choices import DataType, OpcUaSecurityMode, Protocol, RegisterType, WordOrder


class _Strict(serializers.Serializer):
    """Unknown keys are an error (a typo such as ``unitid`` must not be silently ignored)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected an object of settings."]})
        unknown = sorted(set(data) - set(self.fields))
        result = super().to_internal_value(data)
        if unknown:
            raise serializers.ValidationError({key: ["Unknown setting."] for key in unknown})
        return result


class _ModbusCommon(_Strict):
    unit_id = serializers.IntegerField(min_value=0, max_value=247, default=1,
                                       help_text="Modbus unit (slave) id, 0-247.")
    timeout_s = serializers.FloatField(min_value=0.05, max_value=60, default=2.0)
    word_order = serializers.ChoiceField(choices=WordOrder.choices, default=WordOrder.ABCD,
                                         help_text="Byte order of 32/64-bit values over 16-bit registers.")
    address_base = serializers.ChoiceField(
        choices=[0, 1], default=0, help_text="0: addresses are protocol offsets; 1: register numbers (1 = offset 0).")
    max_block_registers = serializers.IntegerField(min_value=1, max_value=125, default=125)
    max_block_coils = serializers.IntegerField(min_value=1, max_value=2000, default=2000)
    max_gap = serializers.IntegerField(min_value=0, max_value=100, default=0,
                                       help_text="Unused registers a block read may span to join two ranges.")


class ModbusTcpSettings(_ModbusCommon):
    host = serializers.CharField(max_length=255)
    port = serializers.IntegerField(min_value=1, max_value=65535, default=502)

    def validate_host(self, value):
        if not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", value):
            raise serializers.ValidationError("Not a host name or IP address.")
        return value


class ModbusRtuSettings(_ModbusCommon):
    serial_port = serializers.CharField(max_length=255, help_text="e.g. /dev/ttyUSB0")
    baudrate = serializers.ChoiceField(choices=[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], default=19200)
    parity = serializers.ChoiceField(choices=["N", "E", "O"], default="N")
    stopbits = serializers.ChoiceField(choices=[1, 2], default=1)
    bytesize = serializers.ChoiceField(choices=[7, 8], default=8)

    def validate_serial_port(self, value):
        if not value.startswith("/"):
            raise serializers.ValidationError("Give the absolute path of the serial device, e.g. /dev/ttyUSB0.")
        return value

    def validate(self, attrs):
        if attrs.get("unit_id", 1) == 0:
            raise serializers.ValidationError({"unit_id": ["0 is the broadcast address on a serial line: use 1-247."]})
        return attrs


class OpcUaSettings(_Strict):
    endpoint = serializers.CharField(max_length=500)
    security_mode = serializers.ChoiceField(choices=OpcUaSecurityMode.choices, default=OpcUaSecurityMode.NONE)
    security_policy = serializers.ChoiceField(
        choices=["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"], default="None")
    username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    password = serializers.CharField(max_length=300, required=False, allow_blank=True)
    timeout_s = serializers.FloatField(min_value=0.1, max_value=120, default=4.0)
    certificate_path = serializers.CharField(
        max_length=500, required=False, allow_blank=True,
        help_text="Client application certificate (.der/.pem), needed by Sign / SignAndEncrypt.")
    private_key_path = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                             help_text="Private key of the client certificate (.pem/.der).")
    sampling_interval_ms = serializers.IntegerField(
        min_value=0, max_value=3_600_000, required=False, allow_null=True, default=None,
        help_text="Server-side sampling interval of each monitored item; empty: the device poll interval "
                  "(the subscription's publishing interval).")
    queue_size = serializers.IntegerField(
        min_value=1, max_value=10_000, default=10,
        help_text="Values a monitored item queues between two publishes (1: only the latest).")
    keepalive_s = serializers.FloatField(
        min_value=0.5, max_value=600, default=5.0,
        help_text="The subscription sends a keep-alive at least this often; silence for 3x means the link is lost.")
    watchdog_s = serializers.FloatField(min_value=0.2, max_value=60, default=1.0,
                                        help_text="Period of the client's ServerStatus probe.")

    def validate_endpoint(self, value):
        if not re.fullmatch(r"opc\.tcp://[^\s/:]+(:\d{1,5})?(/\S*)?", value):
            raise serializers.ValidationError("Expected opc.tcp://host:port[/path].")
        return value

    def validate(self, attrs):
        mode, policy = attrs.get("security_mode", "None"), attrs.get("security_policy", "None")
        if (mode == "None") != (policy == "None"):
            raise serializers.ValidationError(
                {"security_policy": ["Security mode None needs policy None, and a signing mode needs a policy."]})
        if mode != "None":
            missing = {name: ["Required by a signing security mode (absolute path)."]
                       for name in ("certificate_path", "private_key_path")
                       if not str(attrs.get(name) or "").startswith("/")}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class MqttSettings(_Strict):
    broker_url = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                       help_text="mqtt[s]://host:port; empty: the site broker (settings).")
    topic_prefix = serializers.CharField(max_length=200)
    sparkplug = serializers.BooleanField(default=False)
    qos = serializers.ChoiceField(choices=[0, 1], default=1)

    def validate_broker_url(self, value):
        if value and not re.fullmatch(r"mqtts?://[^\s/:]+(:\d{1,5})?/?", value):
            raise serializers.ValidationError("Expected mqtt://host:port or mqtts://host:port.")
        return value

    def validate_topic_prefix(self, value):
        if "+" in value or "#" in value or value.startswith("/") or not value.strip():
            raise serializers.ValidationError("A topic prefix has no wildcards (+ #) and no leading '/'.")
        return value.rstrip("/")


class HttpIngestSettings(_Strict):
    max_batch = serializers.IntegerField(min_value=1, max_value=100_000, default=5000)


class CsvSettings(_Strict):
    directory = serializers.CharField(max_length=500)
    pattern = serializers.CharField(max_length=100, default="*.csv")
    timestamp_column = serializers.CharField(max_length=100, default="timestamp")

    def validate_directory(self, value):
        if not value.startswith("/"):
            raise serializers.ValidationError("Give an absolute directory path.")
        return value


CONNECTION = {
    Protocol.MODBUS_TCP: ModbusTcpSettings,
    Protocol.MODBUS_RTU: ModbusRtuSettings,
    Protocol.OPCUA: OpcUaSettings,
    Protocol.MQTT: MqttSettings,
    Protocol.HTTP_INGEST: HttpIngestSettings,
    Protocol.CSV: CsvSettings,
}


class ModbusAddress(_Strict):
    register_type = serializers.ChoiceField(choices=RegisterType.choices)
    address = serializers.IntegerField(min_value=0, max_value=65535)


class OpcUaAddress(_Strict):
    node_id = serializers.CharField(max_length=500)

    def validate_node_id(self, value):
        if not re.fullmatch(r"(ns=\d+;)?[isgb]=.+", value):
            raise serializers.ValidationError("Expected a NodeId such as ns=2;s=W01.THP or i=2258.")
        return value


class KeyAddress(_Strict):
    key = serializers.CharField(max_length=200, help_text="Key in the JSON payload, or the Sparkplug metric name.")


class CsvAddress(_Strict):
    column = serializers.CharField(max_length=200)


ADDRESS = {
    Protocol.MODBUS_TCP: ModbusAddress,
    Protocol.MODBUS_RTU: ModbusAddress,
    Protocol.OPCUA: OpcUaAddress,
    Protocol.MQTT: KeyAddress,
    Protocol.HTTP_INGEST: KeyAddress,
    Protocol.CSV: CsvAddress,
}


def validate_connection(protocol: str, data) -> dict:
    serializer_class = CONNECTION.get(protocol)
    if serializer_class is None:
        raise serializers.ValidationError({"protocol": [f"Unknown protocol {protocol!r}."]})
    serializer = serializer_class(data=data if data is not None else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def validate_address(protocol: str, data, connection: dict | None = None, data_type: str | None = None) -> dict:
    serializer_class = ADDRESS.get(protocol)
    if serializer_class is None:
        raise serializers.ValidationError({"protocol": [f"Unknown protocol {protocol!r}."]})
    serializer = serializer_class(data=data if data is not None else {})
    serializer.is_valid(raise_exception=True)
    result = dict(serializer.validated_data)
    if serializer_class is ModbusAddress:
        base = int((connection or {}).get("address_base", 0))
        if result["address"] < base:
            raise serializers.ValidationError(
                {"address": [f"The device uses {base}-based addressing: minimum {base}."]})
        bit = result["register_type"] in (RegisterType.COIL, RegisterType.DISCRETE_INPUT)
        if data_type is not None and bit != (data_type == DataType.BOOL):
            raise serializers.ValidationError(
                {"register_type": ["Coils and discrete inputs hold bool tags; registers hold numeric tags."]})
    return result


def flat_errors(detail, prefix: str = "") -> list[str]:
    """'host: This field is required.' strings for Django ValidationError messages (admin forms)."""
    out: list[str] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            out += flat_errors(value, f"{prefix}{key}: " if not prefix else f"{prefix[:-2]}.{key}: ")
    elif isinstance(detail, list):
        for value in detail:
            out += flat_errors(value, prefix)
    else:
        out.append(f"{prefix}{detail}")
    return out
