"""System checks for the SCADA configuration (run with ``manage.py check --database default``, and at gateway
start): scada.E001 a device whose protocol settings do not validate, scada.E002 a tag whose address does not."""

from django.core import checks
from rest_framework.exceptions import ValidationError


@checks.register(checks.Tags.database)
def check_scada_configuration(app_configs=None, databases=None, **kwargs):
    from django.db import DatabaseError

    from scada import protocols
    from scada.models import Device, Tag

    if not databases:
        return []
    errors = []
    try:
        devices = list(Device.objects.all())
        tags = list(Tag.objects.select_related("device"))
    except DatabaseError:  # not migrated yet
        return []
    for device in devices:
        try:
            protocols.validate_connection(device.protocol, device.connection)
        except ValidationError as exc:
            errors.append(checks.Error(
                f"Device {device.name}: bad {device.protocol} settings: {'; '.join(protocols.flat_errors(exc.detail))}",
                hint="Fix the device's connection settings in the admin or the API.", obj=device, id="scada.E001"))
    for tag in tags:
        try:
            protocols.validate_address(tag.device.protocol, tag.address, None, tag.data_type)
        except ValidationError as exc:
            errors.append(checks.Error(
                f"Tag {tag.name}: bad address: {'; '.join(protocols.flat_errors(exc.detail))}",
                obj=tag, id="scada.E002"))
    return errors
