"""The web app's pages count as the server's own routes: an API that would answer one of them cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinhole.api.mounting import RouteCollision
from pinhole.app import create_app
from pinhole.dialects import DIALECTS
from pinhole.settings import Settings
from tests.api.test_mounting import ToyMounts, _toy


def test_an_api_route_on_a_page_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pinhole.app

    monkeypatch.setattr(pinhole.app, "DIALECTS", (*DIALECTS, _toy("one", "/images/{anything}")))
    with pytest.raises(RouteCollision, match=r"pinhole GET /images/\{image_id\} \(image\) and one GET /images/"):
        create_app(Settings(data_dir=tmp_path, dialects=ToyMounts()))
    # With the web app off, the same API mounts.
    create_app(Settings(data_dir=tmp_path, dialects=ToyMounts(), web={"enabled": False}))
