"""``Patch[Schema]``: a PATCH body of only the fields sent, each validated as in ``Schema``.

ninja's ``PatchDict`` makes every field optional *and nullable*, so ``{"time_zone": null}``
reached validators and models that never expect None (a 500 for sites, plans and on-call
schedules). Here a field left out is simply absent from the dict, and null is accepted only
where the schema itself accepts null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ninja import Body
from ninja.patch_dict import ModelToDict
from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo


def _patch_model(schema: type[BaseModel]) -> type[ModelToDict]:
    """A model of ``schema`` where no field is required; its dump holds the fields sent."""
    # A default makes a required field optional without changing its type or constraints:
    # an explicit null is still checked against the field's own type (defaults are not).
    overrides: dict[str, Any] = {
        name: (info.annotation, FieldInfo.merge_field_infos(info, default=None))
        for name, info in schema.model_fields.items()
        if info.is_required()
    }
    optional = create_model(f"{schema.__name__}Patch", __base__=schema, **overrides)

    class PatchBody(ModelToDict):
        _wrapped_model = optional
        _wrapped_model_dump_params = {"exclude_unset": True}

    return PatchBody


class _PatchFactory:
    def __getitem__(self, schema: type[BaseModel]) -> Any:
        return Body[_patch_model(schema)]  # type: ignore[misc]


if TYPE_CHECKING:
    T = TypeVar("T")

    class Patch(dict[str, Any], Generic[T]):
        """The fields sent in a PATCH body, validated by ``T``'s rules."""

else:
    Patch = _PatchFactory()
