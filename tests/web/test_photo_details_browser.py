"""Photo details in a real headless Chromium against a real `pinhole serve`, at desktop and phone sizes: the date
taken, camera and lens on the image page, sorting "My images" by date taken with the lightbox in that order, and the
account's choices (keep locations, show my name) on the owner's and a stranger's page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select

from tests.support.exif import camera_exif, photo_with_exif
from tests.web.live import LiveServer, chrome, ensure_chromium, live_server
from tests.web.test_e2e_browser import natural_width, sign_in, wait

pytestmark = pytest.mark.slow

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
# Uploaded in this order; taken in another.
PHOTOS = {
    "b-early.jpg": "2019:03:01 09:00:00",
    "a-late.jpg": "2023:08:15 17:45:00",
    "c-none.jpg": None,
    "d-middle.jpg": "2021:11:20 12:00:00",
}
BY_DATE_TAKEN = ["a-late.jpg", "d-middle.jpg", "b-early.jpg", "c-none.jpg"]  # newest taken first, unknown last


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    presets = '{"card": "w=200&h=100&fit=cover"}'
    with live_server(tmp_path_factory.mktemp("details") / "data", PINHOLE_TRANSFORMS__PRESETS=presets) as live:
        yield live


@pytest.fixture(params=sorted(SIZES))
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the browser tests: {exc}")
    driver = chrome(width=SIZES[request.param][0], height=SIZES[request.param][1])
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(tmp_path / "photo-details.png"))
        driver.quit()


def upload_in_order(driver: webdriver.Chrome, base: str, files: list[Path]) -> None:
    driver.get(f"{base}/upload")
    for done, path in enumerate(files, start=1):  # one at a time: upload dates in this order
        driver.find_element(By.ID, "files").send_keys(str(path))
        wait(driver).until(uploads_done(done))


def uploads_done(count: int) -> Callable[[webdriver.Chrome], bool]:
    return lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "li.upload.done")) == count


def tile_names(driver: webdriver.Chrome) -> list[str]:
    return [tile.text for tile in driver.find_elements(By.CSS_SELECTOR, ".grid .tile .name")]


def tile_pages(driver: webdriver.Chrome) -> list[str]:
    return [str(a.get_attribute("href")) for a in driver.find_elements(By.CSS_SELECTOR, ".grid .tile a.thumb")]


def text_of(driver: webdriver.Chrome, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def test_details_sorting_by_date_taken_and_the_lightbox(
    server: LiveServer, driver: webdriver.Chrome, tmp_path: Path
) -> None:
    base = server.base
    user = f"taker{driver.get_window_size()['width']}"
    server.create_user(user)
    files = []
    for name, taken in PHOTOS.items():
        exif = camera_exif(taken=taken, position=None) if taken else camera_exif(taken=None, make=None, model=None)
        (tmp_path / name).write_bytes(photo_with_exif(exif, size=(640, 480)))
        files.append(tmp_path / name)
    sign_in(driver, base, user)
    upload_in_order(driver, base, files)

    driver.get(f"{base}/images")
    assert tile_names(driver) == list(reversed(PHOTOS))  # newest upload first
    Select(driver.find_element(By.ID, "sort")).select_by_value("taken")
    driver.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
    wait(driver).until(ec.url_contains("sort=taken"))
    assert tile_names(driver) == BY_DATE_TAKEN
    pages = tile_pages(driver)

    # The lightbox goes through the tiles in the order shown.
    driver.find_elements(By.CSS_SELECTOR, ".grid .tile .lightbox-button")[0].click()
    assert driver.find_element(By.ID, "lightbox").is_displayed()
    seen = []
    for _ in BY_DATE_TAKEN:
        seen.append(str(driver.find_element(By.ID, "lightbox-open").get_attribute("href")))
        ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    assert seen == pages
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert not driver.find_element(By.ID, "lightbox").is_displayed()

    # The image page shows the details, and says the served file carries none.
    driver.get(pages[0])
    assert text_of(driver, "taken-at") == "2023-08-15 17:45"
    assert text_of(driver, "camera") == "Canon EOS R5"
    assert text_of(driver, "lens") == "RF24-105mm F4 L IS USM"
    assert "carries no metadata" in text_of(driver, "no-metadata")
    assert driver.find_elements(By.ID, "location") == []
    # The picker's presets: a preset alone, in the snippets and the preview; a width clears it.
    Select(driver.find_element(By.ID, "format")).select_by_value("webp")
    Select(driver.find_element(By.ID, "preset")).select_by_value("card")
    image_id = pages[0].rsplit("/", 1)[1]
    url = driver.find_element(By.CSS_SELECTOR, "input[data-kind=URL]").get_attribute("value")
    assert url == f"{base}/v2/images/{image_id}?preset=card"
    wait(driver).until(lambda d: natural_width(d, "#preview") == 200)
    Select(driver.find_element(By.ID, "size")).select_by_value("320")
    assert driver.find_element(By.ID, "preset").get_attribute("value") == ""
    url = driver.find_element(By.CSS_SELECTOR, "input[data-kind=URL]").get_attribute("value")
    assert url == f"{base}/v2/images/{image_id}?w=320"

    driver.get(pages[-1])  # no EXIF at all
    assert text_of(driver, "taken-at") == "unknown"
    assert driver.find_elements(By.ID, "camera") == []


def test_location_and_name_only_when_the_account_allows(
    server: LiveServer, driver: webdriver.Chrome, tmp_path: Path
) -> None:
    base = server.base
    user = f"traveller{driver.get_window_size()['width']}"
    server.create_user(user)
    photo = tmp_path / "tower.jpg"
    photo.write_bytes(photo_with_exif(camera_exif(), size=(640, 480)))
    sign_in(driver, base, user)

    upload_in_order(driver, base, [photo])
    first = str(driver.find_element(By.CSS_SELECTOR, "#uploads li.upload.done a.result").get_attribute("href"))
    driver.get(first)
    assert driver.find_elements(By.ID, "location") == []  # off by default: not stored
    stranger_view = httpx.get(first)
    assert stranger_view.status_code == 200
    assert 'id="uploader"' not in stranger_view.text  # the name is not shown either

    driver.get(f"{base}/account")
    keep, show = driver.find_element(By.ID, "keep-location"), driver.find_element(By.ID, "show-name")
    assert not keep.is_selected()
    assert not show.is_selected()
    for box in (keep, show):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        box.click()
    driver.find_element(By.ID, "save-photo-privacy").click()
    wait(driver).until(ec.text_to_be_present_in_element((By.ID, "notice"), "Your photo choices are saved."))
    assert driver.find_element(By.ID, "keep-location").is_selected()

    upload_in_order(driver, base, [photo])
    second = str(driver.find_element(By.CSS_SELECTOR, "#uploads li.upload.done a.result").get_attribute("href"))
    driver.get(second)
    assert text_of(driver, "location") == "48.85840, 2.29450"

    # A stranger (signed out) sees the name and the details, never the position.
    stranger = httpx.get(second)
    assert stranger.status_code == 200
    assert f'<p id="uploader">By {user}</p>' in stranger.text
    assert 'id="camera"' in stranger.text
    assert "48.858" not in stranger.text
    assert 'id="location"' not in stranger.text
    # Private, the page refuses the stranger and says nothing (the name included).
    private = driver.find_element(By.ID, "make-private")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", private)
    private.click()
    wait(driver).until(lambda d: d.find_element(By.ID, "visibility").text == "private")
    refused = httpx.get(second, follow_redirects=False)
    assert refused.status_code in (303, 307)
    assert user not in refused.text
