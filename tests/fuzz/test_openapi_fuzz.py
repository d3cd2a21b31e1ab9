"""Schema-driven fuzzing of every API: schemathesis generates requests from each operation of the OpenAPI document
and the real app (in-process) answers, as each kind of caller. The check: no 5xx, and every answer matches the
documented schema. `PINHOLE_TEST_FUZZ_EXAMPLES` bounds the examples per operation (default 8, so the whole fuzz
stays near a minute; the report that found the two 500s used 25), each sent as a randomly drawn kind of caller.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from starlette.routing import Route

from pinhole.settings import Settings
from tests.fuzz.harness import Driver, make_callers, running_app, seed_images

EXAMPLES = int(os.environ.get("PINHOLE_TEST_FUZZ_EXAMPLES", "8"))
APIS = ("v2", "userphotos", "uploadkey", "userimages", "slink")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# tus PATCH bodies (documented as `application/offset+octet-stream`) are raw bytes, as schemathesis sends octet-streams.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Limits would answer 429 long before the fuzzer is done; the limiter has tests of its own.
    return {"rate_limits": {"enabled": False}, "accounts": {"guest_uploads": True}}


def route_patterns(driver: Driver, path: str) -> list[re.Pattern[str]]:
    """The path regexes of the app's routes documented at `path` (converters included)."""
    return [route.path_regex for route in driver.app.routes if isinstance(route, Route) and route.path_format == path]


def fuzz_operation(driver: Driver, operation: Any, callers: dict[str, dict[str, str]]) -> None:
    patterns = route_patterns(driver, operation.path)

    # Requests that fit the document and requests that do not (wrong types, out-of-range numbers, bad bodies).
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases, caller=st.sampled_from(sorted(callers)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any, caller: str) -> None:
        headers = {**(case.headers or {}), **callers[caller]}
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            data=kwargs.get("data"),
            json=kwargs.get("json"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
        ).prepare()
        response = driver.send(prepared)
        # A generated path value the route's converter refuses (e.g. not `img_` + 16 hex digits) never reaches
        # this operation: the app answers its unknown-path 404, which only has to be no 5xx.
        routed = any(p.match(unquote(urlsplit(str(prepared.url)).path)) for p in patterns)
        try:
            case.validate_response(response, checks=CHECKS if routed else [not_a_server_error])
        except BaseException as exc:
            raise AssertionError(f"as {caller}: {exc}") from None

    check()


def _operation(result: Ok[Any] | Err[Any]) -> Any:
    if isinstance(result, Err):
        raise AssertionError(f"the OpenAPI document has an operation schemathesis cannot read: {result.err()}")
    return result.ok()


@pytest.mark.parametrize("api", APIS)
def test_every_operation_survives_generated_requests(api: str, settings: Settings) -> None:
    failures: list[str] = []
    with running_app(settings) as driver:
        callers = driver.run(lambda: make_callers(driver.runtime))
        seed_images(driver, callers)
        schema = schemathesis.openapi.from_dict(driver.app.openapi())
        operations = [_operation(result) for result in schema.get_all_operations()]
        mine = [op for op in operations if (op.definition.raw.get("tags") or [""])[0] == api]
        assert mine, f"no operation tagged {api}"
        for operation in mine:
            try:
                fuzz_operation(driver, operation, callers)
            except AssertionError as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
