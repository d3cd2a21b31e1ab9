"""Issue 22 in a real headless Chromium against a real `pinhole serve`, at desktop and phone sizes: copying links
right after an upload, the public viewer page (its preview metadata read from its HTML) and honest view counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.support.images import make_jpeg
from tests.web.live import LiveServer, chrome, ensure_chromium, live_server
from tests.web.test_e2e_browser import sign_in, wait

pytestmark = pytest.mark.slow

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sharing") / "data") as live:
        live.create_user("alice")
        yield live


@pytest.fixture(params=sorted(SIZES))
def owner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the browser tests: {exc}")
    width, height = SIZES[request.param]
    driver = chrome(width=width, height=height)
    # The clipboard, as a person's click grants it: the test reads back what the page copied.
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}
    )
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(tmp_path / "owner.png"))
        driver.quit()


def clipboard(driver: webdriver.Chrome) -> str:
    text = driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], (e) => arguments[0]('ERROR ' + e));"
    )
    return str(text)


def upload(driver: webdriver.Chrome, base: str, files: list[Path]) -> list[str]:
    """Upload `files` from the upload page; the ids of the finished rows, in order."""
    driver.find_element(By.ID, "files").send_keys("\n".join(str(path) for path in files))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done .copy-buttons")) == 2)
    links = driver.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done a.result")
    return [str(link.get_attribute("href")).removeprefix(f"{base}/images/") for link in links]


def test_links_are_copied_right_after_upload(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    files = [tmp_path / "harbour.jpg", tmp_path / "forest.jpg"]
    files[0].write_bytes(make_jpeg(1200, 800))
    files[1].write_bytes(make_jpeg(900, 600, seed=2))
    sign_in(owner, base)
    owner.get(f"{base}/upload")
    owner.find_element(By.ID, "auto-copy").click()
    Select(owner.find_element(By.ID, "copy-size")).select_by_value("640")
    ids = upload(owner, base, files)
    rows = owner.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done")
    # Auto-copy put the link of the upload that finished first (in the chosen size) on the clipboard.
    wait(owner).until(lambda d: "first link" in d.find_element(By.ID, "copy-status").text)
    assert clipboard(owner) in {f"{base}/v2/images/{image_id}?w=640" for image_id in ids}

    rows[1].find_element(By.CSS_SELECTOR, "button[data-kind=Markdown]").click()
    wait(owner).until(lambda d: "Markdown" in d.find_element(By.ID, "copy-status").text)
    markdown = clipboard(owner)
    assert markdown.startswith("![")
    assert markdown.endswith(f"({base}/v2/images/{ids[1]}?w=640)")

    Select(owner.find_element(By.ID, "copy-size")).select_by_value("")
    Select(owner.find_element(By.ID, "copy-all-kind")).select_by_visible_text("BBCode")
    owner.find_element(By.ID, "copy-all").click()
    wait(owner).until(lambda d: "Copied 2 links" in d.find_element(By.ID, "copy-status").text)
    assert clipboard(owner).splitlines() == [f"[img]{base}/v2/images/{image_id}[/img]" for image_id in ids]

    owner.refresh()  # the auto-copy choice is remembered in this browser
    assert owner.find_element(By.ID, "auto-copy").is_selected()
