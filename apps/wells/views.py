from apps.core.views import ScopedDetailView, ScopedListView
from apps.wells.models import Completion, Field, Site, Trajectory, Well


class FieldListView(ScopedListView):
    model = Field
    columns = ["code", "name", "country", "operator"]


class FieldDetailView(ScopedDetailView):
    model = Field


class SiteListView(ScopedListView):
    model = Site
    columns = ["code", "name", "field", "kind"]

    def get_queryset(self):
        return super().get_queryset().select_related("field")


class SiteDetailView(ScopedDetailView):
    model = Site


class WellDetailView(ScopedDetailView):
    """A well with its status history, wellbores, completions (and restrictions) and trajectories."""

    model = Well
    template_name = "wells/well_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        well = self.object
        ctx["history"] = well.status_history.restrict(user, "view")[:20]
        ctx["wellbores"] = well.wellbores.restrict(user, "view").select_related("parent")
        ctx["completions"] = (
            Completion.objects.restrict(user, "view")
            .filter(wellbore__well=well).prefetch_related("restrictions")
        )
        ctx["trajectories"] = Trajectory.objects.restrict(user, "view").filter(wellbore__well=well)
        return ctx


class TrajectoryDetailView(ScopedDetailView):
    model = Trajectory
    template_name = "wells/trajectory_detail.html"
