"""No answer that depends on who asks can be kept by a shared cache and handed to someone else.

Walks every GET route of the OpenAPI document (every API), its path filled with real ids (images only some callers
may see), and asks as every kind of caller and anonymously. Where the answers differ, each must carry
`Cache-Control: private` or `no-store` and `Vary` on every credential header; an answer marked `public` must be
the same for everyone.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.api.caching import CREDENTIAL_HEADERS
from pinhole.runtime import Runtime
from tests.fuzz.harness import client_id_of, make_callers
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}}


async def seed(http: httpx.AsyncClient, callers: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """Path values to try: private images of a client's user and of an account, and a userphotos image."""
    values: list[dict[str, str]] = []
    for name in ("client key for a user", "user"):
        data = img.make_png(40 + len(values), 30)
        created = await http.post(
            "/v2/images", headers=callers[name], files={"file": ("p.png", data)}, data={"isPrivate": "true"}
        )
        assert created.status_code == 201, created.text
        image_id = created.json()["id"]
        values.append({"image": image_id, "file": f"{image_id}.png", "ext": "png"})
    photo = await http.post(
        "/v1/upload",
        headers=callers["client key as bearer"],
        data={"user_id": "fuzz-user"},
        files={"image": ("p.png", img.make_png(50, 30))},
    )
    assert photo.status_code == 200, photo.text
    values.append({"image": photo.json()["image_id"], "file": "x.png", "ext": "png"})
    return values


def fill(path: str, values: dict[str, str], client_id: str) -> str:
    by_name = {
        "userId": "fuzz-user",
        "external_user_id": "fuzz-user",
        "client_id": client_id,
        "page": "1",
        "ext": values["ext"],
        "file": values["file"],
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in by_name:
            return by_name[name]
        return values["image"] if name in {"image_id", "id", "imageId", "uuid"} else "unknown"

    return re.sub(r"\{([^}]+)\}", one, path)


def fingerprint(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, hashlib.sha256(response.content).hexdigest()


def cache_problems(url: str, answers: dict[str, httpx.Response]) -> list[str]:
    """A `public` answer must be the one anyone gets (the anonymous one); where answers differ, every other answer
    must be private (or no-store) and vary on the credentials."""
    problems = []
    differ = len({fingerprint(r) for r in answers.values()}) > 1
    anonymous = fingerprint(answers["anonymous"])
    for caller, response in answers.items():
        cache = response.headers.get("cache-control", "").lower()
        vary = {part.strip().lower() for part in response.headers.get("vary", "").split(",")}
        if "public" in cache:
            if fingerprint(response) != anonymous:
                problems.append(f"{url} as {caller}: public ({cache}) but not what anyone gets")
            continue
        if differ and not ("private" in cache or "no-store" in cache):
            problems.append(f"{url} as {caller}: {response.status_code} with Cache-Control {cache!r}")
        if differ and not {h.lower() for h in CREDENTIAL_HEADERS} <= vary:
            problems.append(f"{url} as {caller}: {response.status_code} with Vary {response.headers.get('vary')!r}")
    return problems


async def test_answers_that_depend_on_the_caller_are_private_and_vary(
    app: FastAPI, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    callers = await make_callers(runtime)
    client_id = await client_id_of(runtime)
    paths = [path for path, operations in app.openapi()["paths"].items() if "get" in operations]
    assert len(paths) > 30
    problems: list[str] = []
    checked = 0
    for values in await seed(http, callers):
        for url in dict.fromkeys(fill(path, values, client_id) for path in paths):
            answers = {name: await http.get(url, params={"info": "true"}, headers=h) for name, h in callers.items()}
            problems += cache_problems(url, answers)
            checked += 1
    assert checked > 60
    assert not problems, "\n".join(problems)


async def test_image_info_for_a_key_is_private(http: httpx.AsyncClient, runtime: Runtime) -> None:
    """The report's case: `?info=true` with a client's key answered the tenant's metadata with no Cache-Control."""
    callers = await make_callers(runtime)
    created = await http.post(
        "/v2/images", headers=callers["client key"], files={"file": ("p.png", img.make_png(20, 20))}
    )
    image_id = created.json()["id"]
    info = await http.get(f"/v2/images/{image_id}?info=true", headers=callers["client key"])
    assert info.status_code == 200
    assert info.headers["cache-control"] in ("no-store", "private")
    assert {"authorization", "x-api-key"} <= {v.strip().lower() for v in info.headers["vary"].split(",")}
    anonymous = await http.get(f"/v2/images/{image_id}?info=true")
    assert anonymous.status_code in (401, 404)
    assert "public" not in anonymous.headers.get("cache-control", "")
