"""The admin dashboard's charts in a real headless Chromium against a real `pinhole serve`, light and dark: storage
per day, requests and warm hits per minute, render time percentiles, the busiest clients and images."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from pinhole.web.dashboard import DAYS
from tests.support.images import make_jpeg
from tests.web.live import LiveServer, browser, live_server
from tests.web.test_e2e_browser import sign_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("dashboard") / "data", PINHOLE_DELIVERY__VIEW_FLUSH_SECONDS="0.2") as live:
        live.create_user("root", admin=True)
        created = subprocess.run(
            [sys.executable, "-m", "pinhole", "clients", "create", "--name", "Harbour app", "--json"],
            env=live.env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = {"X-API-Key": json.loads(created.stdout)["apiKey"]}
        with httpx.Client(base_url=live.base, timeout=30) as http:
            for n, name in enumerate(("harbour.jpg", "forest.jpg")):
                files = {"file": (name, make_jpeg(800, 600, seed=n + 1))}
                image = http.post("/v2/images", headers=key, files=files).json()
                for width in (120, 240, 120, 120):  # two renders, then warm hits
                    assert http.get(f"/v2/images/{image['id']}", params={"w": width}).status_code == 200
        yield live


@pytest.fixture(params=["light", "dark"])
def admin(request: pytest.FixtureRequest, server: LiveServer, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with browser(request, tmp_path, "dashboard", dark=request.param == "dark") as driver:
        sign_in(driver, server.base, "root")
        yield driver


def _bars(driver: webdriver.Chrome, list_id: str) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li")]


def test_the_dashboard_charts_in_chromium(server: LiveServer, admin: webdriver.Chrome) -> None:
    admin.get(f"{server.base}/admin")
    deadline = time.monotonic() + 20
    while not _bars(admin, "image-bars") and time.monotonic() < deadline:  # views are flushed every 0.2 s
        time.sleep(0.3)
        admin.refresh()
    assert len(admin.find_elements(By.CSS_SELECTOR, "#storage-chart rect.column")) == DAYS
    storage = admin.find_elements(By.CSS_SELECTOR, "#storage-chart rect.column")
    assert float(storage[-1].get_attribute("height") or 0) > 0  # today's total is the tallest column
    assert admin.find_elements(By.CSS_SELECTOR, "#requests-chart rect.column")
    assert "requests since the server started" in admin.find_element(By.ID, "requests-total").text
    ratio = admin.find_element(By.ID, "hit-ratio").text
    assert ratio.startswith("50%"), ratio  # 8 served: 4 rendered (2 sizes x 2 images), 4 warm
    latency = _bars(admin, "latency-bars")
    assert any(line.startswith("jpeg p50") and line.endswith("ms") for line in latency), latency
    assert _bars(admin, "client-bars")[0].startswith("Harbour app")
    images = _bars(admin, "image-bars")
    assert {line.split()[0] for line in images} == {"harbour.jpg", "forest.jpg"}
    bar = admin.find_element(By.CSS_SELECTOR, "#image-bars .ranked-bar")
    assert bar.size["width"] > 0  # drawn, not just in the markup
    assert bar.size["height"] > 0
    dark = admin.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")
    assert _brightness(admin.find_element(By.TAG_NAME, "body").value_of_css_property("background-color")) == (
        "dark" if dark else "light"
    )
    assert bar.value_of_css_property("background-color") != admin.find_element(
        By.CSS_SELECTOR, "#image-bars .ranked-track"
    ).value_of_css_property("background-color")


def _brightness(css_colour: str) -> str:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return "dark" if red + green + blue < 3 * 128 else "light"
