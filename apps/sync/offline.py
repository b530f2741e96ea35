"""Offline data entry, server side: creates with a client-generated UUID are idempotent.

A tablet that saved an entry offline (static/js/offline/) re-sends it with the same ``id`` until it gets an answer;
an answer lost on a flaky link means the server may see the same create twice. ``ClientIdCreateMixin`` makes the
second one answer ``200`` with the stored record instead of a duplicate or a uniqueness error. The API of the forms
that work offline (daily production, DDR time log) and the toolstring contract API (which wraps its answers) use it.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api.exceptions import Conflict


def client_id_field() -> serializers.UUIDField:
    return serializers.UUIDField(required=False, help_text="Client-generated UUID: a resend of the same create is "
                                                           "answered with the stored record (offline entry).")


def check_client_id(serializer, value):
    """A serializer's ``validate_id``: the id is for creates only, it never changes an existing record's key."""
    if serializer.instance is not None and value != serializer.instance.pk:
        raise serializers.ValidationError("The id of a stored record cannot change.")
    return value


class ClientIdCreateMixin:
    """For a ScopedModelViewSet whose serializer accepts ``id``: a create carrying an ``id`` that is already stored
    answers 200 with that record (visible to the caller) or 409 (someone else's record); a new one is created with it.
    Two resends racing each other: the loser meets the winner's row in the serializer's unique validators, in the
    model's unique check (``full_clean``) or on the primary key, and answers like a resend.

    A viewset whose API has its own response shape wraps ``create``: 201 is a new record, 200 a stored one."""

    def create(self, request, *args, **kwargs):
        client_id = request.data.get("id") if isinstance(request.data, dict) else None
        if not client_id:
            return super().create(request, *args, **kwargs)
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            raise ValidationError({"id": ["Must be a valid UUID."]}) from None
        stored = self._stored(client_id)
        if stored is not None:
            return stored
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                self.perform_create(serializer)
        except (ValidationError, DjangoValidationError, IntegrityError):
            stored = self._stored(client_id)
            if stored is None:
                raise
            return stored
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(
            serializer.data))

    def _stored(self, client_id) -> Response | None:
        model = self.get_queryset().model
        if not model._base_manager.filter(pk=client_id).exists():
            return None
        visible = self.get_queryset().filter(pk=client_id).first()
        if visible is None:
            raise Conflict("A record with this id already exists.")
        return Response(self.get_serializer(visible).data, status=status.HTTP_200_OK)


def offline_create_view(patterns: list, template_name: str) -> list:
    """``patterns`` from ``apps.wells.ui.crud`` with its "new" page rendered by ``template_name`` (a form marked
    ``data-offline-url`` that static/js/offline/page.js saves on the device and sends to the API)."""
    from django.urls import path

    patterns = list(patterns)
    index = next(i for i, p in enumerate(patterns) if p.name and p.name.endswith("-create"))
    create = patterns[index]
    view = create.callback.view_class
    offline = type(f"Offline{view.__name__}", (view,), {"template_name": template_name})
    patterns[index] = path(str(create.pattern), offline.as_view(), name=create.name)
    return patterns
