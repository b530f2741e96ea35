"""Base classes every app's API uses: a scoped serializer and a scoped, audited model viewset."""

from __future__ import annotations

from django.db import transaction
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.relations import ManyRelatedField, RelatedField

from apps.core.api.permissions import required_action


class ScopedModelSerializer(serializers.ModelSerializer):
    """Related-object choices are restricted to what the requesting user may see: pointing a new record at an object
    of another field is answered like pointing at one that does not exist."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return fields
        for field in fields.values():
            target = field.child_relation if isinstance(field, ManyRelatedField) else field
            if isinstance(target, RelatedField) and getattr(target, "queryset", None) is not None:
                qs = target.queryset
                if hasattr(qs, "restrict"):
                    target.queryset = qs.restrict(user, "view")
        return fields


class ScopedModelViewSet(viewsets.ModelViewSet):
    """A model viewset behind the permission choke point.

    - reads go through ``Model.objects.restrict(user, "view")``: out-of-scope objects answer 404;
    - writes need the role's add/change/delete permission (403 otherwise) and the object in the user's scope;
    - a created or updated object must land inside the user's scope, or the change is rolled back with a 400;
    - model.full_clean() runs before save so model-level rules answer 400 with the field, not 500.
    Business rules belong in the app's services; override perform_* to call them.
    An ``@action(..., rbac_action="approve")`` names the permission the action needs (default: the method's).
    """

    rbac_action: str | None = None

    def get_queryset(self):
        queryset = super().get_queryset()
        action = required_action(self.request, self) or "view"
        base = queryset.restrict(self.request.user, "view")
        if action in ("change", "delete"):
            # The object must be visible *and* changeable; visible-but-not-changeable is a 403 from the permission.
            return base & queryset.restrict(self.request.user, action)
        return base

    def _check_in_scope(self, instance):
        model = type(instance)
        if not model.objects.restrict(self.request.user, "view").filter(pk=instance.pk).exists():
            raise ValidationError({"non_field_errors": ["The object would be outside of your field/site scope."]})

    def _full_clean(self, serializer):
        instance = serializer.instance
        model = self.get_queryset().model
        data = dict(serializer.validated_data)
        m2m = {k: data.pop(k) for k in list(data) if k in {f.name for f in model._meta.many_to_many}}
        probe = instance if instance is not None else model()
        for key, value in data.items():
            setattr(probe, key, value)
        # Fields the request does not carry were checked by the serializer (or are set by the service): skip them.
        exclude = [f.name for f in model._meta.fields if f.name not in data] if instance is None else None
        try:
            probe.full_clean(exclude=exclude, validate_unique=True)
        except Exception:
            if instance is not None:
                instance.refresh_from_db()
            raise
        return m2m

    def perform_create(self, serializer):
        with transaction.atomic():
            self._full_clean(serializer)
            instance = serializer.save()
            self._check_in_scope(instance)

    def perform_update(self, serializer):
        with transaction.atomic():
            self._full_clean(serializer)
            instance = serializer.save()
            self._check_in_scope(instance)
