"""The permission choke point.

``restrict(queryset, user, action)`` is the one place that decides what a user may see or do. The API viewsets, the UI
views, the websocket consumers and the exports all call it (through ``Model.objects.restrict(user, action)``), so a
rule is written once:

1. The user's role must grant ``<app>.<action>_<model>`` (see apps.core.rbac); otherwise nothing is returned.
2. The model's ``scope`` narrows the rows to the user's fields/sites (or to rows the user owns).

Views answer 403 when step 1 fails for the whole model (a viewer POSTing) and 404 when step 2 hides the object
(a supervisor of Field A asking for a well in Field B): an out-of-scope object is indistinguishable from a missing one.

Scoping is pluggable per model: a model declares ``scope = FieldScope("site__field__code", site="site__code")``
(the lookup paths from the model to the field code and the site code) or ``OwnerScope("recipient")``.
"""

from __future__ import annotations

from functools import reduce
from operator import attrgetter

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from apps.core.rbac import ADMIN, perm_name


def role_of(user) -> str | None:
    return getattr(user, "role", None) if user is not None and user.is_authenticated else None


def sees_all_scopes(user) -> bool:
    return bool(user.is_superuser or role_of(user) == ADMIN or getattr(user, "all_fields", False))


def user_scope_codes(user) -> tuple[frozenset[str], frozenset[str]]:
    """(field codes, site codes) the user is scoped to, cached on the user object for the request."""
    cached = getattr(user, "_scope_codes_cache", None)
    if cached is None:
        fields, sites = set(), set()
        scopes = getattr(user, "scopes", None)
        if scopes is not None:
            for kind, code in scopes.values_list("kind", "code"):
                (fields if kind == "field" else sites).add(code)
        cached = (frozenset(fields), frozenset(sites))
        user._scope_codes_cache = cached
    return cached


class Scope:
    """How a model's rows are narrowed for a user. Subclasses return a Q (or None for "no narrowing")."""

    distinct = False

    def q(self, user) -> Q | None:  # pragma: no cover - interface
        raise NotImplementedError

    def codes(self, instance) -> tuple[str | None, str | None]:
        """(field code, site code) of one object, recorded on its audit rows so audit reads can be scoped too."""
        return (None, None)


def _follow(instance, path: str | None):
    """Value at a lookup path (``site__field__code``) of an instance, or None if any hop is missing."""
    if not path:
        return None
    try:
        return attrgetter(path.replace("__", "."))(instance)
    except (AttributeError, ObjectDoesNotExist):
        return None


class FieldScope(Scope):
    """Rows belong to a field (and optionally a site); users see the fields and sites they are assigned to."""

    def __init__(self, field: str, site: str | None = None, distinct: bool = False):
        self.field_path = field
        self.site_path = site
        self.distinct = distinct

    def q(self, user) -> Q | None:
        if sees_all_scopes(user):
            return None
        fields, sites = user_scope_codes(user)
        parts = [Q(**{f"{self.field_path}__in": fields})] if fields else []
        if self.site_path and sites:
            parts.append(Q(**{f"{self.site_path}__in": sites}))
        if not parts:
            return Q(pk__in=[])
        return reduce(lambda a, b: a | b, parts)

    def codes(self, instance):
        field = _follow(instance, self.field_path)
        site = _follow(instance, self.site_path)
        return (str(field) if field is not None else None, str(site) if site is not None else None)


class OwnerScope(Scope):
    """Rows belong to one user (notifications, personal settings); even an admin sees only their own."""

    def __init__(self, path: str):
        self.path = path

    def q(self, user) -> Q | None:
        return Q(**{self.path: user})


class AuditScope(Scope):
    """Audit rows carry the field/site code of their object at the time of the change."""

    def q(self, user) -> Q | None:
        if sees_all_scopes(user):
            return None
        fields, sites = user_scope_codes(user)
        # A scoped reader sees the changes made in their fields/sites, and their own actions (logins...).
        return Q(field_code__in=fields) | Q(site_code__in=sites) | Q(actor=user)


def can(user, model, action: str) -> bool:
    """Does the user's role grant ``action`` on ``model`` at all (ignoring scope)?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(perm_name(model, action))


def restrict(queryset, user, action: str = "view"):
    """The choke point: the rows of ``queryset`` that ``user`` may ``action``."""
    model = queryset.model
    if not can(user, model, action):
        return queryset.none()
    scope: Scope | None = getattr(model, "scope", None)
    if scope is None:
        return queryset
    condition = scope.q(user)
    if condition is None:
        return queryset
    queryset = queryset.filter(condition)
    return queryset.distinct() if scope.distinct else queryset
