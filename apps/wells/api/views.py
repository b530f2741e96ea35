from apps.core.api.base import ScopedModelViewSet
from apps.wells.api.serializers import FieldSerializer, SiteSerializer
from apps.wells.filters import FieldFilter, SiteFilter
from apps.wells.models import Field, Site


class FieldViewSet(ScopedModelViewSet):
    queryset = Field.objects.all()
    serializer_class = FieldSerializer
    filterset_class = FieldFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]


class SiteViewSet(ScopedModelViewSet):
    queryset = Site.objects.select_related("field")
    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]
