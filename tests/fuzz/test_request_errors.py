"""The two classes of 500 the fuzzer found, walked over every route of every API.

- A JSON body that is not UTF-8 (`$'\\xff'`): FastAPI raises its own 400 while decoding; it must come out as the
  API's 400, not as a logged traceback and a 500.
- A huge number (page 922337203685477580): SQLite raised OverflowError. Every numeric query and path parameter has
  a documented maximum, and a value past it is the API's 400.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from tests.fuzz.harness import make_callers

pytestmark = pytest.mark.anyio

HUGE = 922337203685477580


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    ]


def filled(path: str, **values: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "00000000-0000-0000-0000-000000000000"), path)


def is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(is_integer(s) for s in schema.get("anyOf", []))


def bounds(schema: dict[str, Any]) -> tuple[Any, Any]:
    """(minimum, maximum) of an integer schema, also when it is `integer | null` (bounds beside the anyOf)."""
    low, high = schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum")
    for option in schema.get("anyOf", []):
        if option.get("type") == "integer":
            low = option.get("minimum", option.get("exclusiveMinimum")) if low is None else low
            high = option.get("maximum", high)
    return low, high


def error_body(response: httpx.Response) -> Any:
    """Every API answers errors as JSON in its own documented shape (never a bare traceback)."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    return response.json()


async def test_invalid_utf8_json_is_the_apis_400_on_every_route(app: FastAPI, http: httpx.AsyncClient) -> None:
    runtime: Runtime = app.state.runtime
    callers = await make_callers(runtime)
    # Every route that takes a body, documented as JSON or not (some read an optional JSON body themselves).
    with_json = [(path, method) for path, method, _ in operations(app) if method in ("post", "put", "patch", "delete")]
    assert len(with_json) > 50, with_json  # the report counted about 50 route/method pairs answering 500
    problems = []
    for path, method in with_json:
        for caller in ("anonymous", "user", "client key for a user"):
            response = await http.request(
                method.upper(),
                filled(path, userId="fuzz-user", page="1"),
                content=b"\xff",
                headers=callers[caller] | {"Content-Type": "application/json"},
            )
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {path} as {caller}: {response.status_code}")
            elif response.status_code >= 400:
                error_body(response)
    assert not problems, "\n".join(problems)


async def test_login_with_invalid_utf8_is_400_in_each_apis_shape(http: httpx.AsyncClient) -> None:
    v2 = await http.post("/v2/auth/login", content=b"\xff", headers={"Content-Type": "application/json"})
    assert v2.status_code == 400
    assert v2.json()["error"]["code"] == "invalid_input"
    slink = await http.post("/api/auth/login", content=b"\xff", headers={"Content-Type": "application/json"})
    assert 400 <= slink.status_code < 500
    assert error_body(slink)


async def test_every_numeric_parameter_is_bounded_and_a_huge_one_is_a_400(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    runtime: Runtime = app.state.runtime
    callers = await make_callers(runtime)
    checked, problems = 0, []
    for path, method, operation in operations(app):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] not in ("query", "path") or not is_integer(schema):
                continue
            low, high = bounds(schema)
            if low is None or high is None:
                problems.append(f"{method.upper()} {path}: {parameter['name']} has no documented bounds")
            name = parameter["name"]
            url = filled(path, **({"userId": "fuzz-user", "page": "1"} | {name: str(HUGE)}))
            params = {name: str(HUGE)} if parameter["in"] == "query" else {}
            for caller in ("user", "client key for a user", "admin"):
                response = await http.request(method.upper(), url, params=params, headers=callers[caller])
                checked += 1
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {path} ?{name}={HUGE} as {caller}: {response.status_code}")
                elif response.status_code not in (400, 401, 403) and parameter["in"] == "query" and name == "page":
                    problems.append(f"{method.upper()} {path} page={HUGE} as {caller}: {response.status_code}")
    assert checked > 20
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "url",
    [
        "/v2/images?page=922337203685477580",
        "/v2/albums?page=922337203685477580",
        "/uploadkey/api/list?page=922337203685477580",
        "/api/images/922337203685477580",
        "/api/images/history/922337203685477580",
    ],
)
async def test_the_reported_huge_pages_are_400(http: httpx.AsyncClient, runtime: Runtime, url: str) -> None:
    callers = await make_callers(runtime)
    headers = callers["client key for a user"] if url.startswith("/v2") else callers["user"]
    response = await http.get(url, headers=headers)
    assert response.status_code in (400, 422), response.text  # slink's document answers violations with 422
    assert "page" in response.text
