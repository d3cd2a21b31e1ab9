"""A route for SSRF tests: connections to `PUBLIC`, a globally routable address the fetcher's checks let through,
go to this machine's loopback instead, below the fetcher. So a real server on loopback stands for an origin on the
internet, and its redirects inward can be tested with private networks refused (the default settings)."""

from __future__ import annotations

from typing import Any

import httpcore
import pytest

PUBLIC = "93.184.215.14"


def route_public_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(backend: httpcore.AnyIOBackend, host: str, port: int, *args: Any) -> Any:
        return await real(backend, "127.0.0.1" if host == PUBLIC else host, port, *args)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
