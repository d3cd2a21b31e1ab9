"""Issue 22's moderation and small things in a real headless Chromium against a real `pinhole serve`, at desktop and
phone sizes: filters (size too) and bulk delete to the trash with Undo, a notice gone after a reload, restore from
the trash, a quota typed as "5 GB", a password reset link used end to end, suspending and deleting an account behind
pages that count its images, then the phone layouts (measured by bounding boxes), the favicon and the theme."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select

from tests.support.images import make_jpeg
from tests.web.live import PASSWORD, LiveServer, chrome, ensure_chromium, live_server
from tests.web.test_e2e_browser import sign_in, wait

pytestmark = pytest.mark.slow

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
NEW_PASSWORD = "a reset passphrase for the test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("moderation") / "data") as live:
        yield live


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@contextlib.contextmanager
def browser_at(size: str, shots: Path, name: str) -> Iterator[webdriver.Chrome]:
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the browser tests: {exc}")
    width, height = SIZES[size]
    driver = chrome(width=width, height=height)
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(shots / f"{name}.png"))
        driver.quit()


def api_upload(base: str, username: str, data: bytes, name: str) -> dict[str, object]:
    login = httpx.post(f"{base}/v2/auth/login", json={"login": username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
    response = httpx.post(f"{base}/v2/images", headers=headers, files={"file": (name, data, "image/jpeg")})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def notice(driver: webdriver.Chrome, text: str) -> None:
    wait(driver).until(ec.text_to_be_present_in_element((By.ID, "notice"), text))


def ids_shown(driver: webdriver.Chrome) -> set[str]:
    return {str(box.get_attribute("value")) for box in driver.find_elements(By.CSS_SELECTOR, ".tile input[name=ids]")}


def served(base: str, image_id: object) -> bool:
    return bool(httpx.get(f"{base}/v2/images/{image_id}").headers.get("X-Pinhole-Fallback") != "1")


def kb(size: object) -> str:
    return f"{int(str(size)) / 1024:.1f} KB"


def test_admin_moderates_accounts_end_to_end(server: LiveServer, size: str, tmp_path: Path) -> None:
    base = server.base
    admin_name, user_name = f"boss{size}", f"eve{size}"
    server.create_user(admin_name, admin=True)
    server.create_user(user_name)
    small = api_upload(base, user_name, make_jpeg(64, 48), "small.jpg")
    large = api_upload(base, user_name, make_jpeg(1000, 700, seed=4), "large.jpg")
    between = (int(str(small["size"])) + int(str(large["size"]))) // 2

    with browser_at(size, tmp_path, "admin") as admin, browser_at(size, tmp_path, "user") as user:
        sign_in(admin, base, admin_name)
        # Filters: the account and a size typed as people type it.
        admin.get(f"{base}/admin/images")
        admin.find_element(By.ID, "f-user").send_keys(user_name)
        admin.find_element(By.ID, "f-min").send_keys(f"{between / 1024:.1f} KB")
        admin.find_element(By.CSS_SELECTOR, "#moderation-filters button[type=submit]").click()
        wait(admin).until(ec.url_contains("min="))
        assert ids_shown(admin) == {large["id"]}
        # Bulk delete: to the trash with Undo; gone from the API at once; the notice is not in the address.
        admin.find_element(By.ID, "select-all").click()
        admin.find_element(By.ID, "moderate-delete").click()
        admin.switch_to.alert.accept()
        notice(admin, "Moved 1 image to the trash")
        assert "done=" not in admin.current_url
        assert not served(base, large["id"])
        admin.refresh()
        assert admin.find_elements(By.ID, "notice") == []  # shown once: a reload does not bring it back
        # Restore from the trash page.
        admin.get(f"{base}/trash")
        admin.find_element(By.CSS_SELECTOR, f"#trashed-{large['id']} input[name=ids]").click()
        admin.find_element(By.ID, "trash-restore").click()
        notice(admin, "Restored 1 image.")
        assert served(base, large["id"])
        # Undo right from the notice.
        admin.get(f"{base}/admin/images?user={user_name}")
        admin.find_element(By.CSS_SELECTOR, f".tile input[value='{small['id']}']").click()
        admin.find_element(By.ID, "moderate-delete").click()
        admin.switch_to.alert.accept()
        notice(admin, "Moved 1 image to the trash")
        admin.find_element(By.ID, "undo").click()
        notice(admin, "Restored 1 image.")
        assert served(base, small["id"])

        # Users: the storage column, and a quota typed as "5 GB".
        admin.get(f"{base}/admin/users")
        row = admin.find_element(By.XPATH, f"//tr[.//span[@class='name' and text()='{user_name}']]")
        user_id = str(row.get_attribute("id")).removeprefix("user-")
        total = int(str(small["size"])) + int(str(large["size"]))
        assert kb(total) in row.find_element(By.CSS_SELECTOR, "td.storage").text
        quota = admin.find_element(By.ID, f"quota-bytes-{user_id}")
        quota.send_keys("5 GB")
        row.find_element(By.CSS_SELECTOR, ".quota-form button").click()
        notice(admin, "quotas are changed")
        assert admin.find_element(By.ID, f"quota-bytes-{user_id}").get_attribute("value") == "5 GB"

        # A reset link, used by the account's owner in another browser.
        admin.find_element(By.ID, f"reset-{user_id}").click()
        link = str(wait(admin).until(ec.presence_of_element_located((By.ID, "reset-link"))).get_attribute("value"))
        assert link.startswith(f"{base}/reset/pr_")
        user.get(link)
        user.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
        user.find_element(By.ID, "password2").send_keys(NEW_PASSWORD)
        user.find_element(By.ID, "reset-submit").click()
        notice(user, "Your new password is set.")
        user.find_element(By.ID, "login").send_keys(user_name)
        user.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
        user.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
        wait(user).until(ec.url_to_be(f"{base}/images"))
        user.get(link)
        assert "used, expired or unknown" in user.find_element(By.CSS_SELECTOR, ".error").text  # one time

        # Suspend: a page that counts what stays online first.
        admin.get(f"{base}/admin/users")
        Select(admin.find_element(By.ID, f"status-{user_id}")).select_by_value("suspended")
        admin.find_element(By.CSS_SELECTOR, f"#user-{user_id} form[action$='/status'] button").click()
        counts = wait(admin).until(ec.presence_of_element_located((By.ID, "confirm-counts"))).text
        assert f"2 images ({kb(total)})" in counts
        assert "the 2 public ones" in counts
        admin.find_element(By.ID, "confirm").click()
        notice(admin, "status is changed")
        user.get(f"{base}/images")
        assert user.current_url.startswith(f"{base}/login")  # the session is gone
        assert served(base, small["id"])  # a suspension keeps the images online

        # Delete: the confirmation says how many, then everything goes.
        admin.find_element(By.ID, f"delete-{user_id}").click()
        counts = wait(admin).until(ec.presence_of_element_located((By.ID, "confirm-counts"))).text
        assert f"2 images ({kb(total)})" in counts
        admin.find_element(By.ID, "confirm").click()
        notice(admin, f"Deleted the account {user_name} and its 2 images")
        assert admin.find_elements(By.ID, f"user-{user_id}") == []
        assert not served(base, small["id"])
        assert not served(base, large["id"])


def center_y(element: WebElement) -> float:
    rect = element.rect
    return float(rect["y"] + rect["height"] / 2)


def same_row(label: WebElement, box: WebElement) -> bool:
    return bool(abs(center_y(label) - center_y(box)) < box.rect["height"])


def test_phone_layouts_favicon_and_theme(server: LiveServer, size: str, tmp_path: Path) -> None:
    base = server.base
    owner, admin_name = f"lay{size}", f"chief{size}"
    server.create_user(owner)
    server.create_user(admin_name, admin=True)
    image = api_upload(base, owner, make_jpeg(800, 600), "layout.jpg")
    phone = size == "phone"
    assert httpx.get(f"{base}/favicon.ico").status_code == 200

    with browser_at(size, tmp_path, "layout") as driver:
        sign_in(driver, base, owner)
        # Labels stay on the row of their boxes (search and bulk rows), on a phone too.
        for label, box in (("label[for=tag]", "#tag"), ("label[for=bulk-tags]", "#bulk-tags"), ("label[for=q]", "#q")):
            assert same_row(driver.find_element(By.CSS_SELECTOR, label), driver.find_element(By.CSS_SELECTOR, box))
        # The image page: Visibility and Share links come before the facts, beside (desktop) or under (phone) it.
        driver.get(f"{base}/images/{image['id']}")
        preview = driver.find_element(By.ID, "preview").rect
        visibility = driver.find_element(By.ID, "visibility-section").rect
        facts = driver.find_element(By.CSS_SELECTOR, "dl.facts").rect
        assert visibility["y"] < facts["y"]
        if phone:
            assert preview["y"] + preview["height"] <= visibility["y"] < preview["y"] + preview["height"] + 120
        else:
            assert visibility["x"] > preview["x"] + preview["width"]
            assert visibility["y"] < preview["y"] + preview["height"]
        # The theme is remembered across a reload.
        background = "return getComputedStyle(document.body).backgroundColor"
        light = driver.execute_script(background)
        toggle = driver.find_element(By.ID, "theme-toggle")
        toggle.click()
        toggle.click()
        assert toggle.text == "Theme: dark"
        dark = driver.execute_script(background)
        assert dark != light
        driver.refresh()
        assert driver.find_element(By.ID, "theme-toggle").text == "Theme: dark"
        assert driver.execute_script(background) == dark
        driver.find_element(By.ID, "theme-toggle").click()  # back to the system's

        # The admin users table keeps its headers: cards with a label per field on a phone.
        driver.delete_all_cookies()
        sign_in(driver, base, admin_name)
        driver.get(f"{base}/admin/users")
        cells = driver.find_elements(By.CSS_SELECTOR, "#user-list tbody tr:last-child td")
        labels = [driver.execute_script("return getComputedStyle(arguments[0], '::before').content", c) for c in cells]
        header = driver.find_element(By.CSS_SELECTOR, "#user-list thead th")
        if phone:
            assert labels[:4] == ['"User"', '"Created"', '"Storage"', '"Quota"']
            xs = {round(cell.rect["x"]) for cell in cells}
            assert len(xs) == 1  # stacked in one column
            assert [cell.rect["y"] for cell in cells] == sorted(cell.rect["y"] for cell in cells)
            table = driver.find_element(By.ID, "user-list").rect
            assert all(cell.rect["x"] + cell.rect["width"] <= table["x"] + table["width"] + 1 for cell in cells)
        else:
            assert header.is_displayed()
            assert len({round(cell.rect["y"]) for cell in cells}) == 1  # one row
            assert set(labels) <= {"none", "normal"}
