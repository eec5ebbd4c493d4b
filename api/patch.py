"""``Patch[Schema]``: a PATCH body of only the fields sent, each validated as in ``Schema``.

ninja's ``PatchDict`` makes every field optional *and nullable*, so ``{"time_zone": null}``
reached validators and models that never expect None (a 500 for sites, plans and on-call
schedules). Here a field left out is simply absent from the dict, and null is accepted only
where the schema itself accepts null.

Built from pydantic's public API only (``create_model``, ``Annotated`` field metadata and the
``__get_pydantic_core_schema__`` hook), so an upgrade of pydantic or ninja cannot quietly bring
the nullable fields back: ``api/tests/test_api_input_bounds.py`` and ``test_api_patch.py`` pin
it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from ninja import Body
from pydantic import BaseModel, GetCoreSchemaHandler, create_model
from pydantic_core import CoreSchema, core_schema


def optional_model(schema: type[BaseModel]) -> type[BaseModel]:
    """``schema`` where no field is required: each required field gets the default None.

    The field's own definition rides along in ``Annotated`` (type, constraints, alias,
    description), so an explicit null is still checked against the field's type, while the
    default (never validated) only marks the field as not sent.
    """
    overrides: dict[str, Any] = {
        name: (Annotated[info.annotation, info], None)
        for name, info in schema.model_fields.items()
        if info.is_required()
    }
    return create_model(f"{schema.__name__}Patch", __base__=schema, **overrides)


def _patch_body(schema: type[BaseModel]) -> type[dict[str, Any]]:
    """A dict type whose value is the body validated by ``optional_model(schema)``, holding
    only the fields the client sent."""
    optional = optional_model(schema)

    def sent_fields(body: BaseModel) -> dict[str, Any]:
        return body.model_dump(exclude_unset=True)

    class PatchBody(dict[str, Any]):
        @classmethod
        def __get_pydantic_core_schema__(
            cls, source: Any, handler: GetCoreSchemaHandler
        ) -> CoreSchema:
            return core_schema.no_info_after_validator_function(sent_fields, handler(optional))

    PatchBody.__name__ = PatchBody.__qualname__ = f"{schema.__name__}PatchBody"
    return PatchBody


class _PatchFactory:
    def __getitem__(self, schema: type[BaseModel]) -> Any:
        return Body[_patch_body(schema)]  # type: ignore[misc]


if TYPE_CHECKING:
    T = TypeVar("T")

    class Patch(dict[str, Any], Generic[T]):
        """The fields sent in a PATCH body, validated by ``T``'s rules."""

else:
    Patch = _PatchFactory()
