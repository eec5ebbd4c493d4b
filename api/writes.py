"""Helpers the routers share to write what the caller sent, validated by the models themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from api.errors import InvalidInput, from_django
from tenancy.scoping import Scope

M = TypeVar("M", bound=models.Model)


def related(scope: Scope, model: type[M] | models.QuerySet[M], pk: Any, field: str) -> M:
    """The object a body field points at, if the caller may see it; else a 422 on that field.

    Absent and foreign ids get the same message, so nothing is learnt about other tenants.
    """
    try:
        return scope.get(model, pk=pk)
    except Http404:
        raise InvalidInput.one(field, _("No such object: %(id)s.") % {"id": pk}) from None


def assign(obj: models.Model, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def save_checked(
    obj: models.Model,
    *,
    non_field: str,
    names: Mapping[str, str] | None = None,
    update_fields: list[str] | None = None,
) -> None:
    """Validate with the model's own rules (``full_clean``), then save; 422 on refusal.

    ``names`` maps model field names to the request body's, ``non_field`` names the body field
    blamed for a multi-column unique constraint (e.g. ``slug`` for client + slug).
    """
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        raise InvalidInput(from_django(exc, names or {}, non_field)) from exc
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        # A concurrent request took the same name between full_clean and the save.
        raise InvalidInput.one(non_field, _("This value is already taken.")) from exc
