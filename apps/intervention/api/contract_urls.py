"""The reference contract's toolstring routes, mounted at /api/v1/toolstrings by erp/urls.py (no app prefix): the
collection answers with or without a trailing slash, as does ``/api/v1/toolstrings/<id>``."""

from django.urls import re_path

from apps.intervention.api import views

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

_collection = views.ToolstringContractViewSet.as_view({"get": "list", "post": "create"})
_item = views.ToolstringContractViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update",
                                                 "delete": "destroy"})
urlpatterns = [
    re_path(r"^(?:/)?$", _collection, name="toolstring-contract-list"),
    re_path(rf"^(?:/)(?P<pk>{UUID})/?$", _item, name="toolstring-contract-detail"),
]
