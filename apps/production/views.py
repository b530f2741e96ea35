from apps.core.views import ScopedDetailView
from apps.production import units
from apps.production.models import AllocationRun, DailyWellProduction, WellTest, unit_system_for


class AllocationRunDetailView(ScopedDetailView):
    model = AllocationRun
    template_name = "production/allocation_detail.html"


class DisplayDetailView(ScopedDetailView):
    """A detail page that also shows the record's quantities in the user's unit system."""

    template_name = "production/display_detail.html"
    quantities: dict[str, str] = {}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        system = self.request.GET.get("units") or unit_system_for(self.request.user)
        system = system if system in units.SYSTEMS else "field"
        values = {n: (getattr(self.object, n), q) for n, q in self.quantities.items()}
        ctx["unit_system"] = system
        ctx["display"] = units.display(values, system)
        return ctx


class DailyDetailView(DisplayDetailView):
    model = DailyWellProduction
    quantities = {"oil_m3": "liquid_volume", "gas_sm3": "gas_volume", "water_m3": "liquid_volume",
                  "tubing_pressure_kpa": "pressure", "casing_pressure_kpa": "pressure"}


class WellTestDetailView(DisplayDetailView):
    model = WellTest
    quantities = {"oil_rate_m3d": "liquid_rate", "gas_rate_sm3d": "gas_rate", "water_rate_m3d": "liquid_rate",
                  "tubing_pressure_kpa": "pressure"}
