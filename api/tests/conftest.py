"""API test helpers: a JSON client authenticated with a freshly issued token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenancy.models import ApiToken

BASE = "/api/v1"


class ApiCaller:
    """Calls the API as one user, with ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None) -> None:
        self.http = HttpClient()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, **query: Any):
        url = path if path.startswith(BASE) else BASE + path
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif query:
            kwargs["data"] = query
        return getattr(self.http, method.lower())(url, **kwargs)

    def get(self, path: str, **query: Any):
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any):
        return self.call("POST", path, body)

    def put(self, path: str, body: Any):
        return self.call("PUT", path, body)

    def patch(self, path: str, body: Any):
        return self.call("PATCH", path, body)

    def delete(self, path: str):
        return self.call("DELETE", path)


@pytest.fixture
def api_as():
    """``api_as(user)``: an ApiCaller for that user (a new token each call)."""

    def make(user) -> ApiCaller:
        _token, raw = ApiToken.issue(user, "tests")
        return ApiCaller(raw)

    return make


def field_errors(response) -> dict[str, str]:
    """The 422 body as ``{field: message}``."""
    assert response.status_code == 422, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}
