from django import template

register = template.Library()


@register.filter
def attr(obj, name):
    """{{ obj|attr:"field" }}: the display value of a field (choices shown by label)."""
    display = getattr(obj, f"get_{name}_display", None)
    if callable(display):
        return display()
    value = getattr(obj, name, "")
    return "" if value is None else value


@register.filter
def field_rows(obj):
    """(verbose name, display value) of each concrete field, for generic detail pages."""
    rows = []
    for field in obj._meta.concrete_fields:
        if field.name in ("id",):
            continue
        rows.append((field.verbose_name, attr(obj, field.name)))
    return rows
