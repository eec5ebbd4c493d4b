"""The OpenAPI document lists the input errors the framework answers before any view runs: 422
for a value that does not validate, 400 for a body that is not JSON, on every operation that
takes input (the bounded schemathesis run checks every status it gets against the document)."""

from __future__ import annotations

import json

from api.urls import api

BASE = "/api/v1"


def _responses(path: str, method: str) -> set[str]:
    return {str(k) for k in api.get_openapi_schema()["paths"][BASE + path][method]["responses"]}


def test_it_documents_the_422_of_a_list_and_the_400_of_a_body(world, api_as):
    owner = api_as(world.owner)
    listing = owner.http.get(f"{BASE}/sites", {"offset": "null"}, headers=owner.headers)
    assert listing.status_code == 422
    assert "422" in _responses("/sites", "get")
    not_json = owner.http.post(
        f"{BASE}/clients", data=b"\x00", content_type="application/json", headers=owner.headers
    )
    assert (not_json.status_code, not_json.json()) == (
        400,
        {"detail": "Cannot parse request body", "errors": []},
    )
    assert {"400", "422"} <= set(_responses("/clients", "post"))


def test_it_documents_them_on_every_operation_that_takes_input():
    for path, item in api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            responses = {str(status) for status in operation["responses"]}
            if "requestBody" in operation:
                assert {"400", "422"} <= responses, (method, path)
            if operation.get("parameters"):
                assert "422" in responses, (method, path)


def test_it_names_each_answer_once_so_swagger_ui_can_read_the_document(client):
    """ninja keys answers by int; an answer added as text is a duplicate key in the JSON
    (which Python reads, keeping one, but Swagger UI refuses with a YAMLException)."""
    body = client.get(f"{BASE}/openapi.json").content.decode()

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(body, object_pairs_hook=no_duplicates)
