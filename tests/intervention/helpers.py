from decimal import Decimal

from apps.intervention.models import ToolComponent

THREAD = "15/16-10 UN"


def comp(code, tool_type, od="38.10", length="0.500", weight="5.00", rotating=True, top=THREAD, bottom=THREAD,
         top_gender="box", bottom_gender="pin"):
    obj, _ = ToolComponent.objects.update_or_create(code=code, defaults=dict(
        name=code, tool_type=tool_type, od_mm=Decimal(od), length_m=Decimal(length), weight_kg=Decimal(weight),
        rotating=rotating, top_connection=top if tool_type != "rope_socket" else "", top_gender=top_gender
        if tool_type != "rope_socket" else "", bottom_connection=bottom, bottom_gender=bottom_gender))
    return obj


def catalogue():
    return {
        "rs": comp("RS-NR", "rope_socket", length="0.300", weight="2.0", rotating=False),
        "swivel": comp("SWV", "swivel", length="0.300", weight="2.5"),
        "stem": comp("STEM-5", "stem", length="1.524", weight="20.0"),
        "jar": comp("JAR-SP", "jar", length="1.200", weight="12.0"),
        "kj": comp("KJ", "knuckle_joint", length="0.300", weight="2.0"),
        "gs": comp("GS-PULL", "pulling_tool", od="45.00", length="0.500", weight="4.0"),
        "wide": comp("GC-57", "gauge_cutter", od="57.00", length="0.300", weight="3.0"),
    }


GOOD = ["rs", "swivel", "stem", "stem", "jar", "kj", "gs"]
