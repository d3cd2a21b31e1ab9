"""The Redis settings and `pinhole doctor`: the URL is validated naming its variable; doctor checks Redis when it is
configured and warns about several workers without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinhole.cli.doctor import _redis, warnings_for
from pinhole.settings import Settings
from tests.support.redisserver import CLOSED_PORT_URL

pytestmark = pytest.mark.anyio


async def test_doctor_reports_redis_only_when_configured(tmp_path: Path, redis_settings: dict[str, str]) -> None:
    assert await _redis(Settings(data_dir=tmp_path)) is None
    assert await _redis(Settings(data_dir=tmp_path, redis=redis_settings)) == {"ok": True}
    closed = await _redis(Settings(data_dir=tmp_path, redis={"url": CLOSED_PORT_URL}))
    assert closed is not None
    assert closed["ok"] is False
    assert closed["error"].startswith("ConnectionError")


@pytest.mark.parametrize(("workers", "url", "warned"), [(1, None, False), (4, None, True), (4, CLOSED_PORT_URL, False)])
def test_doctor_warns_about_workers_without_redis(tmp_path: Path, workers: int, url: str | None, warned: bool) -> None:
    found = warnings_for(Settings(data_dir=tmp_path, server={"workers": workers}, redis={"url": url}))
    assert any("without redis.url" in w for w in found) is warned


def test_a_redis_url_of_another_scheme_is_refused_naming_the_variable(tmp_path: Path) -> None:
    from pinhole.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"PINHOLE_REDIS__URL: .*redis://"):
        load_settings(data_dir=tmp_path, redis={"url": "http://127.0.0.1:6379"})
