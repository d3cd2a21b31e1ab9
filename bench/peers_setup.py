"""The peers pinhole is measured against, prepared and started by the bench itself.

- `wrk` and `nginx` from Debian (apt-get) when they are missing;
- thumbor 7.8 in its own virtualenv, bench/.thumbor-venv (gitignored): a baseline, never a dependency of pinhole;
- thumbor with result storage on and 2 processes, nginx with 1 worker, both on 127.0.0.1 and a free port, each
  with a throw-away folder, stopped (with their process trees) when the bench ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from common import BENCH_DIR, HOST, START_TIMEOUT, ServerProcess, clean_env, free_port, stop_server

THUMBOR_VERSION = "7.8.0"
THUMBOR_VENV = BENCH_DIR / ".thumbor-venv"
THUMBOR_PROCESSES = 2


def _apt_install(*packages: str) -> None:
    print(f"+ apt-get install -y {' '.join(packages)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if subprocess.run(command, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        subprocess.run(command, env=env, check=True)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def ensure_tools() -> None:
    """wrk and nginx, from Debian when missing (the bench runs as root on the bench machine, or asks for them)."""
    missing = [pkg for pkg, found in (("wrk", shutil.which("wrk")), ("nginx-light", nginx_binary())) if not found]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"the bench needs {', '.join(missing)}: apt-get install {' '.join(missing)} (as root)")
    _apt_install(*missing)


def ensure_thumbor() -> Path:
    """thumbor's executable in bench/.thumbor-venv, installing it there on first use (from PyPI, with pip)."""
    executable = THUMBOR_VENV / "bin" / "thumbor"
    stamp = THUMBOR_VENV / ".installed"
    if executable.exists() and stamp.exists() and stamp.read_text() == THUMBOR_VERSION:
        return executable
    # thumbor supports Python 3.10-3.12 (Requires-Python >=3.10; pinned deps with wheels up to 3.12): use this
    # interpreter, which the project requires to be 3.11+.
    print(f"+ installing thumbor {THUMBOR_VERSION} into {THUMBOR_VENV} (a baseline, not a pinhole dependency)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(THUMBOR_VENV)], check=True)
    pip = [str(THUMBOR_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"thumbor=={THUMBOR_VERSION}"], check=True)
    stamp.write_text(THUMBOR_VERSION)
    return executable


def _wait_http(server: ServerProcess, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.base_url + path, timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {path} within {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def _process(command: list[str], *, port: int, env: dict[str, str], work: Path, ready: str) -> Iterator[ServerProcess]:
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        server = ServerProcess(proc=proc, base_url=f"http://{HOST}:{port}", env=env, log_path=log_path)
        try:
            _wait_http(server, ready)
            yield server
        finally:
            stop_server(server)


THUMBOR_CONF = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {images!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = 'thumbor.result_storages.file_storage'
RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = {results!r}
RESULT_STORAGE_STORES_UNSAFE = True
ALLOW_UNSAFE_URL = True
SECURITY_KEY = 'bench-only-not-a-secret'
"""


@contextlib.contextmanager
def thumbor_server(images: Path, *, processes: int = THUMBOR_PROCESSES) -> Iterator[ServerProcess]:
    """thumbor serving the files of `images` (`/unsafe/.../<name>`), result storage in a temp folder, defaults
    otherwise (QUALITY 80, PROGRESSIVE_JPEG on, Pillow engine)."""
    executable = ensure_thumbor()
    work = Path(tempfile.mkdtemp(prefix="pinhole-bench-thumbor-"))
    conf = work / "thumbor.conf"
    conf.write_text(THUMBOR_CONF.format(images=str(images), results=str(work / "results")))
    port = free_port()
    command = [str(executable), "-i", HOST, "-p", str(port), "-c", str(conf), "--processes", str(processes)]
    try:
        with _process(command, port=port, env=clean_env(), work=work, ready="/healthcheck") as server:
            yield server
    finally:
        shutil.rmtree(work, ignore_errors=True)


NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ image/webp webp; image/jpeg jpg; }}
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{
        listen {host}:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_server(root: Path) -> Iterator[ServerProcess]:
    """nginx with one worker serving the files of `root` (sendfile, keep-alive, no access log)."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    work = Path(tempfile.mkdtemp(prefix="pinhole-bench-nginx-"))
    (work / "tmp").mkdir()
    for path in (root, *root.iterdir()):  # nginx's worker runs as `nobody` when started by root
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, host=HOST, port=port, root=root))
    first = next(p.name for p in sorted(root.iterdir()) if p.is_file())
    command = [binary, "-c", str(conf), "-p", str(work), "-g", "daemon off;"]
    try:
        with _process(command, port=port, env=clean_env(), work=work, ready=f"/{first}") as server:
            yield server
    finally:
        shutil.rmtree(work, ignore_errors=True)
