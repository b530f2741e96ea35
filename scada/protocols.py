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
    password_env = serializers.CharField(
        max_length=100, required=False, allow_blank=True,
        help_text="Name of the environment variable holding the password (preferred to storing it here).")
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

    def validate_password_env(self, value):
        if value and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
            raise serializers.ValidationError("An environment variable name such as OPCUA_PASSWORD.")
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
    """One MQTT subscription: JSON payloads under ``topic_prefix``, or one Sparkplug B edge node (docs/mqtt.md)."""

    broker_url = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                       help_text="mqtt[s]://host:port; empty: the site broker (MQTT_URL setting).")
    topic_prefix = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                         help_text="JSON mode: the device subscribes to <topic_prefix>/#.")
    sparkplug = serializers.BooleanField(default=False)
    group_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                     help_text="Sparkplug group id (spBv1.0/<group_id>/...).")
    edge_node_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                         help_text="Sparkplug edge node id: one device per edge node.")
    qos = serializers.ChoiceField(choices=[0, 1], default=1)
    client_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="Fixed MQTT client id of the persistent session; empty: wellsite-<EDGE_ID>-<device id>.")
    session_expiry_s = serializers.IntegerField(
        min_value=60, max_value=30 * 86400, default=7 * 86400,
        help_text="The broker keeps the session (and queues QoS 1 messages) this long while the gateway is away.")
    receive_maximum = serializers.IntegerField(
        min_value=1, max_value=65535, default=20000,
        help_text="Unacknowledged messages the broker may send at once (messages wait for the historian commit).")
    keepalive_s = serializers.IntegerField(min_value=5, max_value=3600, default=30)
    username = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    password_env = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="Name of the environment variable holding the password (secrets stay out of the database).")
    ca_file = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                    help_text="mqtts: CA bundle (PEM) of the broker; empty: the system CAs.")

    _ID = re.compile(r"[^\s/+#]+")

    def validate_broker_url(self, value):
        if value and not re.fullmatch(r"mqtts?://[^\s/:]+(:\d{1,5})?/?", value):
            raise serializers.ValidationError("Expected mqtt://host:port or mqtts://host:port.")
        return value

    def validate_topic_prefix(self, value):
        if "+" in value or "#" in value or value.startswith("/"):
            raise serializers.ValidationError("A topic prefix has no wildcards (+ #) and no leading '/'.")
        return value.strip().rstrip("/")

    def validate_password_env(self, value):
        if value and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
            raise serializers.ValidationError("An environment variable name such as MQTT_PASSWORD.")
        return value

    def validate_ca_file(self, value):
        if value and not value.startswith("/"):
            raise serializers.ValidationError("Give an absolute path.")
        return value

    def validate(self, attrs):
        if attrs.get("sparkplug"):
            missing = {name: ["Required for a Sparkplug B device (no '/', '+' or '#')."]
                       for name in ("group_id", "edge_node_id") if not self._ID.fullmatch(attrs.get(name) or "")}
            if missing:
                raise serializers.ValidationError(missing)
        elif not attrs.get("topic_prefix"):
            raise serializers.ValidationError({"topic_prefix": ["Required for JSON payloads."]})
        return attrs


class HttpIngestSettings(_Strict):
    max_batch = serializers.IntegerField(min_value=1, max_value=100_000, default=5000)


class CsvSettings(_Strict):
    """A directory of exported files (tank gauging, third-party meter exports, daily reports): docs/csv.md."""

    directory = serializers.CharField(max_length=500, help_text="Absolute path of the watched directory.")
    pattern = serializers.CharField(max_length=100, default="*.csv", help_text="File name pattern (fnmatch).")
    timestamp_column = serializers.CharField(max_length=100, default="timestamp")
    timestamp_format = serializers.CharField(
        max_length=100, default="iso",
        help_text="iso (ISO-8601, with or without offset), epoch_s, epoch_ms, or a strftime format such as "
                  "%d/%m/%Y %H:%M.")
    time_zone = serializers.CharField(max_length=64, default="UTC",
                                      help_text="IANA zone of timestamps without an offset (local-time exports).")
    quality_column = serializers.CharField(max_length=100, default="", allow_blank=True,
                                           help_text="Optional column of GOOD/UNCERTAIN/BAD (or 0/1/2) per row.")
    ignore_columns = serializers.ListField(child=serializers.CharField(max_length=200), default=list,
                                           help_text="Columns that are neither tags nor dead-lettered (comments).")
    delimiter = serializers.CharField(max_length=2, default=",", trim_whitespace=False,
                                      help_text="One character: , ; | or \\t for tab.")
    decimal_comma = serializers.BooleanField(default=False, help_text="Values written 1234,5 (needs delimiter ;).")
    encoding = serializers.CharField(max_length=32, default="utf-8-sig",
                                     help_text="Text encoding (utf-8-sig accepts a byte-order mark; cp1252...).")
    archive_directory = serializers.CharField(max_length=500, default="", allow_blank=True,
                                              help_text="Imported files go here; empty: <directory>/archive.")
    error_directory = serializers.CharField(max_length=500, default="", allow_blank=True,
                                            help_text="Files that cannot be parsed at all; empty: <directory>/error.")
    settle_s = serializers.FloatField(min_value=0, max_value=3600, default=5.0,
                                      help_text="A file is read once its size and mtime are unchanged this long.")
    max_file_mb = serializers.FloatField(
        min_value=0.001, max_value=200, default=20.0,
        help_text="Larger files go to the error directory unread (a file is parsed in memory: ~100 bytes a value).")

    def validate_directory(self, value):
        if not value.startswith("/"):
            raise serializers.ValidationError("Give an absolute directory path.")
        return value.rstrip("/") or "/"

    def validate_pattern(self, value):
        if "/" in value or not value.strip():
            raise serializers.ValidationError("A file name pattern such as *.csv (no directories).")
        return value

    def validate_timestamp_format(self, value):
        if value not in ("iso", "epoch_s", "epoch_ms") and "%" not in value:
            raise serializers.ValidationError("iso, epoch_s, epoch_ms or a strftime format (with % codes).")
        return value

    def validate_time_zone(self, value):
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise serializers.ValidationError("Not a known IANA time zone (e.g. America/Chicago).") from exc
        return value

    def validate_delimiter(self, value):
        value = "\t" if value in ("\\t", "tab") else value
        if len(value) != 1 or value in "\"\r\n" or value.isalnum():
            raise serializers.ValidationError("One character such as , ; | or \\t.")
        return value

    def validate_encoding(self, value):
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise serializers.ValidationError("Unknown text encoding.") from exc
        return value

    def validate_archive_directory(self, value):
        if value and not value.startswith("/"):
            raise serializers.ValidationError("Give an absolute directory path (or leave empty).")
        return value.rstrip("/")

    validate_error_directory = validate_archive_directory

    def validate(self, attrs):
        if attrs.get("decimal_comma") and attrs.get("delimiter", ",") == ",":
            raise serializers.ValidationError({"delimiter": ["A decimal comma needs another delimiter, e.g. ;."]})
        if len(set(csv_directories(attrs))) < 3:
            raise serializers.ValidationError(
                {"archive_directory": ["The watched, archive and error directories must differ."]})
        return attrs


def csv_directories(settings: dict) -> tuple[str, str, str]:
    """(watched, archive, error) directories of CSV settings; empty archive/error default to sub-directories."""
    directory = settings["directory"]
    base = directory.rstrip("/")
    return (directory, settings.get("archive_directory") or f"{base}/archive",
            settings.get("error_directory") or f"{base}/error")


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
    column = serializers.CharField(max_length=200, help_text="Header of the column (without a [unit] suffix).")
    unit = serializers.CharField(max_length=32, default="", allow_blank=True,
                                 help_text="Unit of the column's values when the header does not say it "
                                           "(THP [psi]); converted to the tag's unit.")

    def validate_unit(self, value):
        if value:
            from scada.ingest.units import parse

            try:
                parse(value)
            except Exception as exc:  # noqa: BLE001  (pint raises several kinds of error on a bad unit)
                raise serializers.ValidationError("Unknown unit.") from exc
        return value


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
