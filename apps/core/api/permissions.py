"""The API's side of the choke point: the role must grant the action on the view's model (else 403); the viewset's
queryset goes through ``restrict()`` so out-of-scope objects answer 404."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.core.permissions import can
from apps.core.rbac import METHOD_ACTIONS


def required_action(request, view) -> str | None:
    """The rbac action a request needs: the ``rbac_action`` of a viewset @action (DRF sets it on the view instance
    from the action's keyword arguments) or of the view class, else the HTTP method's."""
    explicit = getattr(view, "rbac_action", None)
    if explicit:
        return explicit
    return METHOD_ACTIONS.get(request.method)


def view_model(view):
    model = getattr(view, "rbac_model", None)
    if model is not None:
        return model
    queryset = getattr(view, "queryset", None)
    return queryset.model if queryset is not None else None


class RolePermission(BasePermission):
    message = "Your role does not allow this action."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        model = view_model(view)
        if model is None:  # a view with no model needs only an authenticated user
            return True
        action = required_action(request, view)
        if action is None:
            return False
        allowed = can(user, model, action)
        if not allowed:
            role = getattr(user, "role", None) or "none"
            self.message = f"Your role ({role}) may not {action} {model._meta.verbose_name_plural}."
        return allowed
