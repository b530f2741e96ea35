"""One error envelope for every 4xx of the API:

    {"error": "<code>", "message": "<human text>", "details": [{"field": "...", "error": "..."}]}

plus, for some codes, fields a client acts on: ``retry_after_seconds`` on a 429 from a throttle (also in the
``Retry-After`` header), and whatever an exception lists in its ``envelope_extra`` dict (``max_bytes`` on a 413).

Nested validation errors are flattened to dotted field paths (``data_points.3.value``); errors that belong to no
field use ``non_field_errors``.
"""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def flatten(detail, prefix: str = "") -> list[dict]:
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            items += flatten(value, path)
    elif isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            for value in detail:
                items.append({"field": prefix or "non_field_errors", "error": str(value)})
        else:
            for index, value in enumerate(detail):
                if value in ({}, []):
                    continue
                items += flatten(value, f"{prefix}.{index}" if prefix else str(index))
    else:
        items.append({"field": prefix or "non_field_errors", "error": str(detail)})
    return items


def envelope(code: str, message: str, details: list | None = None) -> dict:
    return {"error": code, "message": message, "details": details or []}


class PayloadTooLarge(exceptions.APIException):
    """413 ``payload_too_large``; the envelope carries the limit as ``max_bytes``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, limit: int, size: int | None = None, advice: str = "Send less per request.",
                 setting: str = ""):
        said = f"The body is {size:,} bytes" if size is not None else f"The body is over {limit:,} bytes"
        named = f" ({setting})" if setting else ""
        super().__init__(f"{said}; this endpoint takes at most {limit:,} bytes{named}. {advice}")
        self.envelope_extra = {"max_bytes": limit}


def read_limited_body(request, limit: int, setting: str = "", advice: str = "Send less per request.") -> bytes:
    """The raw request body, refusing more than ``limit`` bytes with 413: a declared Content-Length over the limit
    before anything is read, and a body without one (chunked) by reading at most one byte past the limit. For views
    that read their own body: Django's ``HttpRequest.body`` refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE
    (2.5 MB) with a bare 400 page, and DRF skips a body that has no Content-Length."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("The Content-Length header is not a number.") from None
    if declared > limit:
        raise PayloadTooLarge(limit, declared, advice, setting)
    raw = getattr(request, "_request", request).read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(limit, None, advice, setting)
    return raw


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limit_exceeded",
    Conflict: "conflict",
}


def exception_handler(exc, context):
    if isinstance(exc, (ProtectedError, RestrictedError)):
        blockers = sorted({f"{o._meta.verbose_name} {o}" for o in list(exc.args[1])[:5]})
        exc = Conflict(f"Cannot delete: still referenced by {', '.join(blockers)}.")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        code = getattr(exc, "envelope_code", None)  # a service's own, more precise code (e.g. tenant_mismatch)
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
        exc.envelope_code = code

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    request = context.get("request")
    code = getattr(exc, "envelope_code", None) or next(
        (c for cls, c in CODES.items() if isinstance(exc, cls)), None
    )
    if isinstance(exc, exceptions.ValidationError):
        details = flatten(exc.detail)
        message = "The request has invalid fields: " + ", ".join(sorted({d["field"] for d in details}))
        code = code or "validation_error"
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict):
            # simplejwt sends {"detail": ..., "code": ..., "messages": [...]}
            message = str(detail.get("detail", "")) or "Request refused."
            if detail.get("code") in ("token_not_valid", "user_not_found", "user_inactive"):
                code = "invalid_token"
        else:
            message = str(detail)
        details = []
        code = code or getattr(exc, "default_code", "error")
        if code in ("not_authenticated", "authentication_failed") and "token" in message.lower():
            code = "invalid_token"
    extra = dict(getattr(exc, "envelope_extra", None) or {})  # structured facts of the error, next to its code
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        retry_after = max(1, math.ceil(exc.wait))
        response["Retry-After"] = str(retry_after)
        extra["retry_after_seconds"] = retry_after
    if isinstance(exc, exceptions.PermissionDenied) and request is not None:
        _audit_denial(request, message)
    response.data = {**envelope(code, message, details), **extra}
    return response


def _audit_denial(request, message: str) -> None:
    from apps.core.audit import record
    from apps.core.choices import AuditAction

    try:
        record(AuditAction.PERMISSION_DENIED, message=f"{request.method} {request.path}: {message}")
    except Exception:  # noqa: BLE001 - a failing audit write must not turn a 403 into a 500
        import logging

        logging.getLogger(__name__).exception("could not audit a permission denial")


def json_error_view(status_code: int, code: str, message: str):
    def view(request, exception=None):
        return JsonResponse(envelope(code, message), status=status_code)

    return view


def api_404(request, exception=None):
    return JsonResponse(envelope("not_found", "No such endpoint or object."), status=status.HTTP_404_NOT_FOUND)


def api_500(request):
    return JsonResponse(envelope("server_error", "Internal error; it has been logged."), status=500)


def error_response(code: str, message: str, status_code: int, details: list | None = None) -> Response:
    return Response(envelope(code, message, details), status=status_code)
