"""Issue 15's web parts in a real headless Chromium against a real `pinhole serve`: the admin page adds, changes
and deletes a preset (the configured one stays read-only) and what `preset=` renders follows; the web app's
uploads (one small file through POST /v2/images, one large through tus) are rendered eagerly, so the first view
finds its variants; a click on the picture sets the focal point that cover crops then keep."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.imaging.test_negotiation import CHROME, CURL, SAFARI_15
from tests.support.images import assert_image, make_jpeg, open_image
from tests.support.scenes import CORNERS, object_share, scene_png
from tests.web.live import LiveServer, browser, live_server
from tests.web.test_e2e_browser import sign_in

pytestmark = pytest.mark.slow

WAIT = 60
THRESHOLD = 50_000  # files from this size up go through tus


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "PINHOLE_TRANSFORMS__PRESETS": json.dumps({"card": "w=120&h=90&fit=cover"}),
        "PINHOLE_WEB__RESUMABLE_THRESHOLD_BYTES": str(THRESHOLD),
        "PINHOLE_WEB__RESUMABLE_CHUNK_BYTES": "16384",
        "PINHOLE_SERVER__SETTINGS_CACHE_SECONDS": "0.5",  # other worker processes re-read the presets this often
    }
    with live_server(tmp_path_factory.mktemp("presets") / "data", **settings) as live:
        live.create_user("root", admin=True)
        yield live


@pytest.fixture
def admin(request: pytest.FixtureRequest, server: LiveServer, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with browser(request, tmp_path, "presets") as driver:
        sign_in(driver, server.base, "root")
        yield driver


def wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    # A form post replaces the page: an element found on the old one goes stale while the new one loads.
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def _api_image(server: LiveServer) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "pinhole", "clients", "create", "--name", "presets", "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = {"X-API-Key": json.loads(created.stdout)["apiKey"]}
    with httpx.Client(base_url=server.base, timeout=30) as http:
        return str(http.post("/v2/images", headers=key, files={"file": ("p.jpg", make_jpeg(400, 300))}).json()["id"])


def _rendered(server: LiveServer, image_id: str, preset: str, *, status: int = 200, width: int = 0) -> httpx.Response:
    """`preset=<preset>` of the image once every worker process serves it with `status` (and `width`): a change
    made through one process reaches the others within `server.settings_cache_seconds`."""
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=server.base, timeout=30) as http:
        while True:
            answers = [
                http.get(f"/v2/images/{image_id}", params={"preset": preset}, headers={"Accept": CURL})
                for _ in range(4)
            ]
            if all(a.status_code == status and (not width or open_image(a.content).width == width) for a in answers):
                return answers[0]
            assert time.monotonic() < deadline, [(a.status_code, a.content[:200]) for a in answers]
            time.sleep(0.2)


def _form_of(driver: webdriver.Chrome, name: str) -> webdriver.remote.webelement.WebElement:
    return driver.find_element(By.ID, f"preset-{name}")


def test_the_admin_page_manages_presets(server: LiveServer, admin: webdriver.Chrome) -> None:
    image_id = _api_image(server)
    admin.get(f"{server.base}/admin/presets")
    card = _form_of(admin, "card")
    assert card.find_element(By.ID, "preset-card-configured").text == "configured"
    assert not card.find_elements(By.TAG_NAME, "form")  # read-only

    admin.find_element(By.ID, "new-preset-name").send_keys("thumb")
    admin.find_element(By.ID, "new-preset-query").send_keys("w=abc")
    admin.find_element(By.ID, "new-preset-add").click()
    error = wait(admin).until(lambda d: d.find_element(By.CSS_SELECTOR, "p.error[role=alert]"))
    assert error.text.startswith("w:")  # the transform parser's message, naming the option
    assert admin.find_element(By.ID, "new-preset-name").get_attribute("value") == "thumb"  # kept for a fix

    query = admin.find_element(By.ID, "new-preset-query")
    query.clear()
    query.send_keys("w=50&grayscale=true")
    admin.find_element(By.ID, "new-preset-add").click()
    wait(admin).until(lambda d: "The preset is added." in d.find_element(By.ID, "notice").text)
    thumb = _form_of(admin, "thumb")
    assert "root" in thumb.text
    made = _rendered(server, image_id, "thumb", width=50)
    assert_image(made.content, format="jpeg", width=50, height=38)
    grey = open_image(made.content)
    assert max((grey[0] - grey[1]).abs().max(), (grey[1] - grey[2]).abs().max()) <= 3  # grayscale: R = G = B

    field = thumb.find_element(By.ID, "preset-thumb-query")
    field.clear()
    field.send_keys("w=70")
    thumb.find_element(By.ID, "preset-thumb-eager-box").click()
    thumb.find_element(By.ID, "preset-thumb-save").click()
    wait(admin).until(lambda d: "The preset is saved." in d.find_element(By.ID, "notice").text)
    assert admin.find_element(By.ID, "preset-thumb-eager").text == "eager"
    assert_image(_rendered(server, image_id, "thumb", width=70).content, format="jpeg", width=70, height=52)

    admin.find_element(By.ID, "preset-thumb-delete").click()
    wait(admin).until(lambda d: "The preset is deleted." in d.find_element(By.ID, "notice").text)
    assert not admin.find_elements(By.ID, "preset-thumb")
    gone = _rendered(server, image_id, "thumb", status=400)
    assert gone.json()["error"]["field"] == "preset"


def _variant_files(server: LiveServer) -> set[Path]:
    root = Path(server.env["PINHOLE_DATA_DIR"]) / "blobs" / "variants"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _upload_in_the_page(driver: webdriver.Chrome, base: str, photo: Path) -> str:
    driver.get(f"{base}/upload")
    driver.find_element(By.ID, "files").send_keys(str(photo))
    item = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploads li.upload"))
    wait(driver).until(lambda d: "done" in (item.get_attribute("class") or ""))
    href = item.find_element(By.CSS_SELECTOR, "a.result").get_attribute("href") or ""
    return href.rstrip("/").rsplit("/", 1)[-1]


def test_the_web_apps_uploads_are_warm_at_the_first_view(
    server: LiveServer, admin: webdriver.Chrome, tmp_path: Path
) -> None:
    admin.get(f"{server.base}/admin/presets")
    admin.find_element(By.ID, "new-preset-name").send_keys("hero")
    admin.find_element(By.ID, "new-preset-query").send_keys("w=160&h=120&fit=cover")
    admin.find_element(By.ID, "new-preset-eager").click()
    admin.find_element(By.ID, "new-preset-add").click()
    wait(admin).until(lambda d: d.find_elements(By.ID, "preset-hero-eager"))

    small, large = tmp_path / "small.jpg", tmp_path / "large.jpg"
    small.write_bytes(make_jpeg(400, 300))
    large.write_bytes(make_jpeg(1600, 1200, quality=95))
    assert small.stat().st_size < THRESHOLD < large.stat().st_size  # one multipart upload, one through tus
    for photo in (small, large):
        before = _variant_files(server)
        image_id = _upload_in_the_page(admin, server.base, photo)
        deadline = time.monotonic() + WAIT
        while len(_variant_files(server) - before) < 3 and time.monotonic() < deadline:  # AVIF, WebP, JPEG
            time.sleep(0.2)
        made = _variant_files(server) - before
        assert {path.suffix for path in made} == {".avif", ".webp", ".jpg"}, photo.name
        with httpx.Client(base_url=server.base, timeout=30) as http:
            for accept, fmt in ((CHROME, "avif"), (SAFARI_15, "webp"), (CURL, "jpeg")):
                response = http.get(f"/v2/images/{image_id}", params={"preset": "hero"}, headers={"Accept": accept})
                assert response.status_code == 200, response.text
                assert_image(response.content, format=fmt, width=160, height=120)
        assert _variant_files(server) - before == made  # the first views rendered nothing: they were warm


def test_a_click_on_the_picture_sets_the_focal_point(
    server: LiveServer, admin: webdriver.Chrome, tmp_path: Path
) -> None:
    scene = tmp_path / "scene.png"
    scene.write_bytes(scene_png(400, 200, at=CORNERS["bottom-left"]))  # the subject in the bottom-left corner
    image_id = _upload_in_the_page(admin, server.base, scene)
    crop: dict[str, str | int] = {"w": 100, "h": 100, "fit": "cover", "format": "png"}
    with httpx.Client(base_url=server.base, timeout=30) as http:
        assert object_share(http.get(f"/v2/images/{image_id}", params=crop).content) < 0.01  # centred: cut off
    admin.get(f"{server.base}/images/{image_id}")
    preview = wait(admin).until(lambda d: d.find_element(By.ID, "preview"))
    wait(admin).until(lambda d: d.execute_script("return arguments[0].complete", preview))
    box = preview.rect
    # Selenium 4 measures the offset from the element's centre: click at (0.1, 0.85) of the picture.
    ActionChains(admin).move_to_element_with_offset(
        preview, int((0.1 - 0.5) * box["width"]), int((0.85 - 0.5) * box["height"])
    ).click().perform()
    shown = wait(admin).until(lambda d: d.find_element(By.ID, "focal-value"))
    x, y = (float(part) for part in shown.text.split(","))
    assert abs(x - 0.1) < 0.03, shown.text
    assert abs(y - 0.85) < 0.03, shown.text
    with httpx.Client(base_url=server.base, timeout=30) as http:
        cropped = http.get(f"/v2/images/{image_id}", params=crop)
    assert_image(cropped.content, format="png", width=100, height=100)
    assert object_share(cropped.content) > 0.03  # the cover crop now keeps the subject
