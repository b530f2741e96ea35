"""Choices of the SCADA app (TextChoices/IntegerChoices, one place)."""

from django.db import models


class Protocol(models.TextChoices):
    MODBUS_TCP = "modbus_tcp", "Modbus TCP"
    MODBUS_RTU = "modbus_rtu", "Modbus RTU (serial)"
    OPCUA = "opcua", "OPC-UA"
    MQTT = "mqtt", "MQTT / Sparkplug B"
    HTTP_INGEST = "http_ingest", "HTTP ingest"
    CSV = "csv", "CSV file import"


MODBUS_PROTOCOLS = (Protocol.MODBUS_TCP, Protocol.MODBUS_RTU)


class WordOrder(models.TextChoices):
    """Order of the four bytes of a 32-bit value (A = most significant) over two 16-bit registers."""

    ABCD = "ABCD", "ABCD (big-endian)"
    CDAB = "CDAB", "CDAB (word swap)"
    BADC = "BADC", "BADC (byte swap)"
    DCBA = "DCBA", "DCBA (little-endian)"


class RegisterType(models.TextChoices):
    COIL = "coil", "Coil (0x)"
    DISCRETE_INPUT = "discrete_input", "Discrete input (1x)"
    INPUT = "input", "Input register (3x)"
    HOLDING = "holding", "Holding register (4x)"


class DataType(models.TextChoices):
    BOOL = "bool", "Boolean"
    INT16 = "int16", "INT16"
    UINT16 = "uint16", "UINT16"
    INT32 = "int32", "INT32"
    UINT32 = "uint32", "UINT32"
    FLOAT32 = "float32", "FLOAT32"
    FLOAT64 = "float64", "FLOAT64"


REGISTER_COUNT = {
    DataType.BOOL: 1, DataType.INT16: 1, DataType.UINT16: 1, DataType.INT32: 2, DataType.UINT32: 2,
    DataType.FLOAT32: 2, DataType.FLOAT64: 4,
}


class Scaling(models.TextChoices):
    NONE = "none", "None (raw = engineering)"
    LINEAR = "linear", "Linear raw → engineering"
    MA_4_20 = "ma_4_20", "4–20 mA (NE43 fault detection)"


class DeadbandMode(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute (engineering units)"
    PERCENT = "percent", "Percent of range"


class OpcUaSecurityMode(models.TextChoices):
    NONE = "None", "None"
    SIGN = "Sign", "Sign"
    SIGN_AND_ENCRYPT = "SignAndEncrypt", "Sign and encrypt"


class Quality(models.IntegerChoices):
    """Quality of a value. Stored as a small integer in the historian (0 is the common case)."""

    GOOD = 0, "Good"
    UNCERTAIN = 1, "Uncertain"
    BAD = 2, "Bad"
    STALE = 3, "Stale"  # no update for `stale_after_intervals` poll intervals: the last value is not current


class WriteStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"
