"""The Redis the tests share: `PINHOLE_TEST_REDIS_URL` (default the local server, which `tasks.py test` starts
when none answers). Each test gets its own key prefix, and its keys are deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("PINHOLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused
problems: list[str] = []


@pytest.fixture
def redis_settings() -> Iterator[dict[str, str]]:
    """The `redis` settings section for a real Redis, with a key prefix of this test's own (keys cleaned after)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        client.close()
        problems.append(f"{REDIS_URL}: {type(exc).__name__}: {exc}")
        if os.environ.get("PINHOLE_TEST_STACK") == "scaled":
            pytest.fail(f"REDIS UNREACHABLE on the scaled stack ({exc})", pytrace=False)
        pytest.skip(f"REDIS UNREACHABLE ({exc}); Redis tests skipped")
    prefix = f"pinhole-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield {"url": REDIS_URL, "key_prefix": prefix}
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
