"""A real pinhole server and a real headless Chromium, for the end-to-end tests and docs/screenshots.py.

Chromium is Debian's `chromium` driven through Debian's `chromium-driver` with Selenium: the driver is built from
the same source package as the browser, so their versions always match (Playwright's own protocol client is tied
to the Chromium revisions it bundles). `ensure_chromium()` installs both with apt-get when they are missing and
raises when it cannot, so a test run never quietly skips the browser tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.debian import apt_install

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PASSWORD = "a long e2e passphrase"
PACKAGES = ("chromium", "chromium-driver")


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed and could not be installed."""


def _present() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing; raise if still missing."""
    apt_install(PACKAGES, present=_present, missing=BrowserMissing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    base: str
    env: dict[str, str]
    log: Path

    def create_user(self, username: str, password: str = PASSWORD, *, admin: bool = False) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pinhole",
                "users",
                "create",
                "--email",
                f"{username}@example.com",
                "--username",
                username,
                *(["--admin"] if admin else []),
            ],
            env=self.env | {"PINHOLE_PASSWORD": password},
            capture_output=True,
            text=True,
            check=True,
        )


@contextlib.contextmanager
def live_server(data_dir: Path, **settings: str) -> Iterator[LiveServer]:
    """`pinhole serve` on a free loopback port with its own data folder; `settings` are extra PINHOLE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINHOLE_")} | {
        "PINHOLE_DATA_DIR": str(data_dir),
        "PINHOLE_ACCOUNTS__PASSWORD_HASH_MEMORY_KIB": "1024",
        "PINHOLE_ACCOUNTS__PASSWORD_HASH_TIME_COST": "1",
        **settings,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pinhole", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, log_path)
            yield LiveServer(base=base, env=env, log=log_path)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not start:\n" + log.read_text())


@contextlib.contextmanager
def browser(
    request: pytest.FixtureRequest, tmp_path: Path, name: str, *, dark: bool = False
) -> Iterator[webdriver.Chrome]:
    """A test's headless Chromium (the test fails when it cannot start), quit afterwards; when the test failed, a
    screenshot of its last page in `tmp_path` (the `rep_call` report comes from tests/conftest.py)."""
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the browser tests: {exc}")
    driver = chrome(dark=dark)
    try:
        yield driver
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            with contextlib.suppress(Exception):
                shot = tmp_path / f"failure-{name}.png"
                driver.save_screenshot(str(shot))
                print(f"\nscreenshot: {shot}")
        driver.quit()


def chrome(*, dark: bool = False, width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """A fresh headless Chromium (its own profile: signed out), in the light or dark colour scheme."""
    ensure_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    scheme = "dark" if dark else "light"
    features = [{"name": "prefers-color-scheme", "value": scheme}]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})
    driver.set_page_load_timeout(30)
    return driver
