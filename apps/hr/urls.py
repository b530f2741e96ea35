from django.urls import path

from apps.hr.views import PAGES, PobView, detail_view, list_view

app_name = "hr"
urlpatterns = [path("pob/", PobView.as_view(), name="pob")]
for _model, _segment, _columns in PAGES:
    _name = _model._meta.model_name
    urlpatterns += [
        path(f"{_segment}/", list_view(_model, _columns).as_view(), name=f"{_name}-list"),
        path(f"{_segment}/<uuid:pk>/", detail_view(_model).as_view(), name=f"{_name}-detail"),
    ]
