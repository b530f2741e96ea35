"""Generic server-rendered create/edit pages behind the permission choke point, shared by the operations apps
(wells, drilling, production, intervention).

- the role must grant add/change (403 otherwise); editing an out-of-scope object is a 404;
- every foreign-key choice is restricted to what the user may see;
- the saved object must land inside the user's scope, else the form shows an error and nothing is saved.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.forms import models as model_forms
from django.urls import path, reverse

from apps.core.permissions import can
from apps.core.views import ScopedDetailView, ScopedListView


class ScopedModelForm(model_forms.ModelForm):
    """A model form that shows a model ``clean()`` error about a field the form does not carry (``status`` of a
    submitted report...) as a form-wide error instead of failing."""

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            regrouped: dict = {}
            for field, messages in errors.error_dict.items():
                key = field if field == NON_FIELD_ERRORS or field in self.fields else NON_FIELD_ERRORS
                regrouped.setdefault(key, []).extend(messages)
            errors = ValidationError(regrouped)
        super()._update_errors(errors)


class _ScopedFormMixin(LoginRequiredMixin):
    template_name = "wells/form.html"
    fields: list[str] = []
    action = "add"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can(request.user, self.model, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return model_forms.modelform_factory(self.model, form=ScopedModelForm, fields=self.fields)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "restrict"):
                field.queryset = qs.restrict(self.request.user, "view")
        return form

    after_save = None  # optional callable(obj): a service to run after the object is saved (recompute...)

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            if not self.model.objects.restrict(self.request.user, "view").filter(pk=self.object.pk).exists():
                transaction.set_rollback(True)
                form.add_error(None, "The object would be outside of your field/site scope.")
                return self.form_invalid(form)
            if self.after_save is not None:
                self.after_save(self.object)
        return response

    def get_success_url(self):
        namespace = self.request.resolver_match.namespace
        return reverse(f"{namespace}:{self.model._meta.model_name}-detail", args=[self.object.pk])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["verbose_name"] = self.model._meta.verbose_name
        ctx["form_action"] = self.action
        return ctx


def crud(prefix: str, model, columns: list[str], fields: list[str], select_related=(), detail_view=None,
         after_save=None):
    """URL patterns for list, detail, new and edit pages of ``model`` under ``prefix`` (e.g. "wells")."""
    from django.views.generic import CreateView, UpdateView

    name = model._meta.model_name
    list_view = type(f"{model.__name__}ListView", (ScopedListView,), {
        "model": model, "columns": columns, "template_name": "wells/object_list.html",
        "get_queryset": lambda self: ScopedListView.get_queryset(self).select_related(*select_related),
    })
    detail = detail_view or type(f"{model.__name__}DetailView", (ScopedDetailView,),
                                 {"model": model, "template_name": "wells/object_detail.html"})
    hook = staticmethod(after_save) if after_save else None
    create = type(f"{model.__name__}CreateView", (_ScopedFormMixin, CreateView),
                  {"model": model, "fields": fields, "action": "add", "after_save": hook})

    def _edit_qs(self):
        return self.model.objects.restrict(self.request.user, "view") & self.model.objects.restrict(
            self.request.user, "change")

    edit = type(f"{model.__name__}UpdateView", (_ScopedFormMixin, UpdateView),
                {"model": model, "fields": fields, "action": "change", "get_queryset": _edit_qs, "after_save": hook})
    return [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}-list"),
        path(f"{prefix}/new/", create.as_view(), name=f"{name}-create"),
        path(f"{prefix}/<uuid:pk>/", detail.as_view(), name=f"{name}-detail"),
        path(f"{prefix}/<uuid:pk>/edit/", edit.as_view(), name=f"{name}-edit"),
    ]
