from apps.core.views import ScopedDetailView, ScopedListView
from apps.wells.models import Field, Site


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
