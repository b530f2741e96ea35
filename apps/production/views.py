from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from rest_framework.exceptions import ValidationError

from apps.core.permissions import can
from apps.core.views import ScopedDetailView
from apps.production import services, units
from apps.production.models import AllocationRun, DailyWellProduction, Meter, WellTest, unit_system_for


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


class AllocationForm(forms.Form):
    meter = forms.ModelChoiceField(queryset=Meter.objects.none())
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def run_allocation(request):
    """UI: run (or rerun) the back-allocation of a meter over a day or a month (supervisors)."""
    if not can(request.user, AllocationRun, "add"):
        raise PermissionDenied
    form = AllocationForm(request.POST or None)
    form.fields["meter"].queryset = Meter.objects.restrict(request.user, "view")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.allocate(data["meter"], data["period_start"], data["period_end"])
        except ValidationError as exc:
            for messages_ in (exc.detail.values() if isinstance(exc.detail, dict) else [exc.detail]):
                for message in messages_:
                    form.add_error(None, str(message))
        else:
            return redirect("production:allocationrun-detail", pk=run.pk)
    return render(request, "wells/form.html", {"form": form, "verbose_name": "allocation run", "form_action": "add"})
