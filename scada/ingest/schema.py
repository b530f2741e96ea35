"""The realtime ingest JSON schema (from the ingestion-connector contract), validated with jsonschema."""

from jsonschema import Draft202012Validator

INGEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["tenant_id", "data_points"],
    "additionalProperties": False,
    "properties": {
        "tenant_id": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9_.-]+$"},
        "data_points": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "required": ["well_id", "timestamp", "parameter_name", "value", "unit"],
                "additionalProperties": False,
                "properties": {
                    "well_id": {"type": "string", "minLength": 1, "maxLength": 64},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "parameter_name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "value": {"type": "number"},
                    "unit": {"type": "string", "maxLength": 32},
                    "quality_code": {"type": "string", "enum": ["GOOD", "BAD", "UNCERTAIN"]},
                    "source": {"type": "string", "maxLength": 100},
                },
            },
        },
    },
}

VALIDATOR = Draft202012Validator(INGEST_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(payload) -> list[dict]:
    """[{"field": "data_points.3.value", "error": "..."}] for every schema violation (empty when valid)."""
    out = []
    for error in sorted(VALIDATOR.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = f"{path}.{missing}" if path else missing
        out.append({"field": path or "non_field_errors", "error": error.message})
    return out
