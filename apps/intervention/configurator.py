"""The toolstring configurator: checks an ordered list of components (top first) and returns every finding.

Each finding is ``{"code", "severity", "message", "components": [positions]}``. Errors block approval; warnings and
info do not. The checks (one function each, listed in CHECKS):

- ``totals``: total length and weight (info);
- ``max_od``: the largest OD against the well's smallest restriction minus a clearance (TOOLSTRING_OD_CLEARANCE_MM);
- ``connections``: each joint's pin and box: same thread, one pin and one box;
- ``rope_socket_top``: a rope socket on top (and nowhere else);
- ``swivel_below_non_rotating``: a swivel directly below a non-rotating rope socket (warning);
- ``jars_below_stem``: every jar has stem above it;
- ``stem_weight``: the stem weight overcomes the wellhead pressure acting on the wire's cross-section
  (W x g >= WHP x pi d^2 / 4 x TOOLSTRING_WEIGHT_SAFETY_FACTOR);
- ``lubricator``: the total length fits the lubricator.

Components are any objects with the attributes of ``ToolSpec`` (a catalogue ToolComponent, a ToolstringItem or a
ToolSpec built from JSON), so the builder page can check an unsaved string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from apps.intervention.choices import Severity, ToolType

G = 9.80665  # m/s²


@dataclass
class ToolSpec:
    name: str
    tool_type: str
    od_mm: Decimal
    length_m: Decimal
    weight_kg: Decimal
    fishing_neck_od_mm: Decimal | None = None
    top_connection: str = ""
    top_gender: str = ""
    bottom_connection: str = ""
    bottom_gender: str = ""
    rotating: bool = True
    component_id: str | None = None


@dataclass
class Conditions:
    well: object | None = None  # wells.Well: its active completions give the smallest restriction
    wire_size_mm: Decimal | None = None
    whp_kpa: Decimal | None = None
    lubricator_length_m: Decimal | None = None
    min_id_mm: Decimal | None = None  # overrides the well's figure (tests, what-if)
    restriction_label: str = ""


@dataclass
class Report:
    totals: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    def add(self, code, severity, message, components=()):
        self.findings.append({"code": code, "severity": str(severity), "message": message,
                              "components": list(components)})

    @property
    def errors(self):
        return [f for f in self.findings if f["severity"] == Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"ok": self.ok, "totals": self.totals, "findings": self.findings}


def _d(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def clearance_mm() -> Decimal:
    return _d(getattr(settings, "TOOLSTRING_OD_CLEARANCE_MM", 2.0))


def weight_safety_factor() -> float:
    return float(getattr(settings, "TOOLSTRING_WEIGHT_SAFETY_FACTOR", 1.2))


def smallest_restriction(well) -> tuple[Decimal | None, str]:
    """(min ID mm, description) over the active completions of every wellbore of ``well``."""
    from apps.wells.models import Completion

    best: tuple[Decimal | None, str] = (None, "")
    for completion in Completion.objects.filter(wellbore__well=well, active=True).prefetch_related("restrictions"):
        min_id, restriction = completion.smallest_restriction()
        if best[0] is None or min_id < best[0]:
            label = str(restriction) if restriction else f"tubing ID of {completion.name}"
            best = (min_id, label)
    return best


# -- the checks ------------------------------------------------------------------------------------------------------
def check_totals(tools, cond, report):
    length = sum((_d(t.length_m) for t in tools), Decimal(0))
    weight = sum((_d(t.weight_kg) for t in tools), Decimal(0))
    max_od = max((_d(t.od_mm) for t in tools), default=Decimal(0))
    stem = sum((_d(t.weight_kg) for t in tools if t.tool_type == ToolType.STEM), Decimal(0))
    report.totals.update({"count": len(tools), "length_m": float(length), "weight_kg": float(weight),
                          "max_od_mm": float(max_od), "stem_weight_kg": float(stem)})
    if tools:
        report.add("totals", Severity.INFO, f"{len(tools)} components, {length:.3f} m, {weight:.2f} kg, "
                   f"max OD {max_od} mm.", [])


def check_max_od(tools, cond, report):
    min_id, label = cond.min_id_mm, cond.restriction_label
    if min_id is None and cond.well is not None:
        min_id, label = smallest_restriction(cond.well)
    if min_id is None or not tools:
        if tools:
            report.add("max_od", Severity.WARNING, "The well has no active completion: the OD was not checked.")
        return
    limit = _d(min_id) - clearance_mm()
    report.totals["od_limit_mm"] = float(limit)
    too_wide = [i for i, t in enumerate(tools) if _d(t.od_mm) > limit]
    if too_wide:
        report.add("max_od", Severity.ERROR,
                   f"OD above {limit} mm (smallest restriction {min_id} mm {label} minus {clearance_mm()} mm "
                   f"clearance): " + ", ".join(f"{tools[i].name} {tools[i].od_mm} mm" for i in too_wide),
                   too_wide)


def check_connections(tools, cond, report):
    for i in range(len(tools) - 1):
        upper, lower = tools[i], tools[i + 1]
        a, b = upper.bottom_connection.strip().upper(), lower.top_connection.strip().upper()
        problem = None
        if not a or not b:
            problem = "connection not stated"
        elif a != b:
            problem = f"thread {upper.bottom_connection} does not make up with {lower.top_connection}"
        elif not upper.bottom_gender or not lower.top_gender or upper.bottom_gender == lower.top_gender:
            problem = (f"{upper.bottom_gender or '?'} into {lower.top_gender or '?'}: a joint needs one pin "
                       f"and one box")
        if problem:
            report.add("connections", Severity.ERROR, f"Joint {upper.name} / {lower.name}: {problem}.", [i, i + 1])


def check_rope_socket_top(tools, cond, report):
    if not tools:
        return
    if tools[0].tool_type != ToolType.ROPE_SOCKET:
        report.add("rope_socket_top", Severity.ERROR, f"The top component is {tools[0].name}, not a rope socket.",
                   [0])
    others = [i for i, t in enumerate(tools) if i > 0 and t.tool_type == ToolType.ROPE_SOCKET]
    if others:
        report.add("rope_socket_top", Severity.ERROR, "A rope socket below the top of the string.", others)


def check_swivel(tools, cond, report):
    for i, t in enumerate(tools):
        if t.tool_type == ToolType.ROPE_SOCKET and not t.rotating:
            below = tools[i + 1] if i + 1 < len(tools) else None
            if below is None or below.tool_type != ToolType.SWIVEL:
                report.add("swivel_below_non_rotating", Severity.WARNING,
                           f"{t.name} is non-rotating: run a swivel directly below it so the wire does not "
                           f"unlay.", [i] + ([i + 1] if below is not None else []))


def check_jars_below_stem(tools, cond, report):
    stems = [i for i, t in enumerate(tools) if t.tool_type == ToolType.STEM]
    for i, t in enumerate(tools):
        if t.tool_type == ToolType.JAR and not any(s < i for s in stems):
            report.add("jars_below_stem", Severity.ERROR,
                       f"{t.name} has no stem above it: jars must run below the stem that drives them.", [i])


def check_stem_weight(tools, cond, report):
    if not tools or cond.whp_kpa is None or cond.wire_size_mm is None:
        return
    d_m = float(cond.wire_size_mm) / 1000.0
    force_n = float(cond.whp_kpa) * 1000.0 * math.pi * d_m * d_m / 4.0
    needed_kg = force_n * weight_safety_factor() / G
    stems = [i for i, t in enumerate(tools) if t.tool_type == ToolType.STEM]
    stem_kg = sum(float(_d(tools[i].weight_kg)) for i in stems)
    report.totals["stem_weight_needed_kg"] = round(needed_kg, 2)
    if stem_kg < needed_kg:
        report.add("stem_weight", Severity.ERROR,
                   f"Stem weight {stem_kg:.1f} kg is below the {needed_kg:.1f} kg needed to overcome "
                   f"{cond.whp_kpa} kPa on a {cond.wire_size_mm} mm wire (force {force_n:.0f} N x safety factor "
                   f"{weight_safety_factor()}).", stems)


def check_lubricator(tools, cond, report):
    if not tools or cond.lubricator_length_m is None:
        return
    length = sum((_d(t.length_m) for t in tools), Decimal(0))
    if length > _d(cond.lubricator_length_m):
        report.add("lubricator", Severity.ERROR,
                   f"The string is {length} m long and the lubricator {cond.lubricator_length_m} m.",
                   list(range(len(tools))))


CHECKS = [check_totals, check_max_od, check_connections, check_rope_socket_top, check_swivel,
          check_jars_below_stem, check_stem_weight, check_lubricator]


def check(tools, cond: Conditions | None = None) -> Report:
    report = Report()
    tools = list(tools)
    cond = cond or Conditions()
    for fn in CHECKS:
        fn(tools, cond, report)
    return report
