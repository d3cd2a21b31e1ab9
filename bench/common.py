"""Shared helpers for the benchmarks: real server processes, photo-like test images, statistics and tables.

Every server here listens on 127.0.0.1 only, on a free port, with a throw-away data folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.support

from tests.support.images import photo as test_photo

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


# ---------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pinhole_command() -> list[str]:
    """`pinhole` from the interpreter's own venv, so the bench measures the code next to it."""
    script = Path(sys.executable).with_name("pinhole")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pinhole"]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any PINHOLE_* variable, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PINHOLE_")}
    return env | extra


@dataclass
class ServerProcess:
    """A server started by a benchmark: its process, where it listens and (for pinhole) its API key."""

    proc: subprocess.Popen[bytes]
    base_url: str
    env: dict[str, str]
    log_path: Path
    api_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait_ready(server: ServerProcess, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(server.base_url + path, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {path} within {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def stop_server(server: ServerProcess) -> None:
    """SIGINT (granian's graceful stop), then SIGTERM, then SIGKILL, each with a deadline; then SIGKILL any
    worker the parent left behind, so a hung shutdown never leaves a server running. Says so when it had to."""
    tree = [(pid, _started_at(pid)) for pid in process_tree(server.pid)] if server.proc.poll() is None else []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if server.proc.poll() is not None:
            break
        if sig != signal.SIGINT:
            print(
                f"WARNING: server {server.pid} ignored the previous signal for {STOP_TIMEOUT:.0f} s; sending {sig.name}"
            )
        server.proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(timeout=STOP_TIMEOUT)
    deadline = time.monotonic() + STOP_TIMEOUT
    leftovers = [(pid, started) for pid, started in tree[1:] if _alive(pid, started)]
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = [(pid, started) for pid, started in leftovers if _alive(pid, started)]
    for pid, _ in leftovers:
        print(f"WARNING: worker {pid} outlived its server process; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; empty when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def _started_at(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[19] if fields else ""


def _alive(pid: int, started: str) -> bool:
    """True while the process `pid` that started at `started` (clock ticks) still runs: never a reused pid."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[19] == started and fields[0] != "Z"


@contextlib.contextmanager
def _started(
    command: list[str], *, env: dict[str, str], log_path: Path, cwd: Path | None = None
) -> Iterator[ServerProcess]:
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = ServerProcess(proc=proc, base_url=f"http://{HOST}:{port}", env=env, log_path=log_path)
        try:
            yield server
        finally:
            stop_server(server)


@contextlib.contextmanager
def pinhole_server(
    *, workers: int | None = 1, settings: dict[str, str] | None = None, api_key: str | None = None
) -> Iterator[ServerProcess]:
    """`pinhole serve` on a free port with a temp PINHOLE_DATA_DIR and an API client `bench` (or `api_key`, for
    an instance sharing its database with another that made the client); `workers=None`: pinhole's default."""
    data_dir = Path(tempfile.mkdtemp(prefix="pinhole-bench-"))
    env = clean_env(PINHOLE_DATA_DIR=str(data_dir), **(settings or {}))
    command = [*pinhole_command(), "serve", *(["--workers", str(workers)] if workers else [])]
    try:
        with _started(command, env=env, log_path=data_dir / "server.log") as server:
            _wait_ready(server, "/v2/status")
            server.api_key = api_key or create_client(env)
            server.headers = {"X-API-Key": server.api_key}
            yield server
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def minimal_server(
    files: dict[str, tuple[str, Path]], *, workers: int = 1, loop: str = "auto"
) -> Iterator[ServerProcess]:
    """`bench/minimal_app.py` under granian: serves `{route: (mime, path)}` from memory, on the event loop
    `loop` names as pinhole's `server.loop` does."""
    log_dir = Path(tempfile.mkdtemp(prefix="pinhole-bench-minimal-"))
    spec = {route: [mime, str(path)] for route, (mime, path) in files.items()}
    env = clean_env(MINIMAL_APP_FILES=json.dumps(spec))
    command = [sys.executable, str(BENCH_DIR / "minimal_app.py"), "--workers", str(workers), "--loop", loop]
    try:
        with _started(command, env=env, log_path=log_dir / "server.log", cwd=BENCH_DIR) as server:
            _wait_ready(server, next(iter(files)))
            yield server
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def create_client(env: dict[str, str]) -> str:
    """`pinhole clients create --name bench --json` against the server's data folder; returns the API key."""
    done = subprocess.run(
        [*pinhole_command(), "clients", "create", "--name", "bench", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return str(json.loads(done.stdout)["apiKey"])


def upload(client: httpx.Client, server: ServerProcess, data: bytes, *, name: str = "photo.jpg") -> dict[str, object]:
    """POST /v2/images; returns the created image's JSON (raises on anything but 201)."""
    response = client.post("/v2/images", headers=server.headers, files={"file": (name, data)})
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:300]}")
    created: dict[str, object] = response.json()
    return created


def http_client(server: ServerProcess, *, timeout: float = 120.0) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=timeout)


def check_image_response(response: httpx.Response, *, mime: str) -> None:
    """Refuse an error or the fallback placeholder: a benchmark of the wrong bytes measures nothing."""
    if response.status_code != 200 or "x-pinhole-fallback" in response.headers:
        raise RuntimeError(f"GET {response.url} answered {response.status_code} {response.headers}")
    if response.headers.get("content-type") != mime:
        raise RuntimeError(f"GET {response.url} answered {response.headers.get('content-type')}, wanted {mime}")


# ---------------------------------------------------------------------------------------------
# Process memory


def process_tree(root: int) -> list[int]:
    """`root` and every live descendant (granian's workers, and anything they started)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def status_kib(pid: int, key: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def reset_peak(pids: Sequence[int]) -> bool:
    """Reset VmHWM of `pids` (writing 5 to clear_refs); False where the kernel does not allow it."""
    ok = True
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


# ---------------------------------------------------------------------------------------------
# Images


def _scene(width: int, height: int, seed: int) -> pyvips.Image:
    """Smooth gradients and discs: the large-scale content of a photo (the tests' own test photo)."""
    return test_photo(width, height, seed=seed)


NOISE_TILE = 509  # prime, so the repeated grain never lines up with JPEG's 8x8 blocks


def photo(width: int, height: int, *, seed: int = 1) -> pyvips.Image:
    """A photo-like sRGB image: a scene, texture that survives downscaling, and sensor-like grain.

    The scene is drawn at 1/8 size and the texture (noise) at 1/6, both scaled up; the grain is a Gaussian tile
    repeated (drawing 108 MP of Gaussian noise would take seconds). At 4000x3000 this gives a JPEG of about
    3.3 MB at Q90 and an 800-pixel WebP of about 75 kB, like a phone photo. `seed` changes every byte of the file.
    """
    small = _scene(max(8, width // 8), max(8, height // 8), seed).copy_memory()
    scene = small.resize(width / small.width, vscale=height / small.height, kernel="linear")
    texture_w, texture_h = max(8, width // 6), max(8, height // 6)
    texture = pyvips.Image.gaussnoise(texture_w, texture_h, sigma=10, mean=128, seed=seed + 1000)
    texture = texture.cast("uchar").copy_memory().resize(width / texture_w, vscale=height / texture_h, kernel="linear")
    tile = pyvips.Image.gaussnoise(NOISE_TILE, NOISE_TILE, sigma=5, mean=128, seed=seed).cast("uchar").copy_memory()
    grain = tile.replicate(width // NOISE_TILE + 1, height // NOISE_TILE + 1).crop(0, 0, width, height)
    return (scene + texture + grain - 256).cast("uchar").copy(interpretation="srgb")


def _add_exif(image: pyvips.Image) -> pyvips.Image:
    """Camera, date and GPS fields, as a phone writes them: enough for pinhole to strip metadata."""
    image = image.copy()
    for name, value in {
        "exif-ifd0-Make": "BenchCam",
        "exif-ifd0-Model": "Bench Body 1",
        "exif-ifd2-DateTimeOriginal": "2024:05:01 12:34:56",
        "exif-ifd3-GPSLatitudeRef": "N",
        "exif-ifd3-GPSLatitude": "51/1 30/1 2620/100",
    }.items():
        image.set_type(pyvips.GValue.gstr_type, name, value)
    image.set_type(pyvips.GValue.gint_type, "orientation", 1)
    return image


def photo_jpeg(width: int, height: int, *, seed: int = 1, quality: int = 90, exif: bool = False) -> bytes:
    """`photo()` as a JPEG; with `exif`, carrying EXIF (orientation 1) so pinhole's stripping runs."""
    image = photo(width, height, seed=seed)
    if exif:
        return bytes(_add_exif(image).jpegsave_buffer(Q=quality, keep="all"))
    return bytes(image.jpegsave_buffer(Q=quality, keep="none"))


# ---------------------------------------------------------------------------------------------
# Statistics and tables


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table (pastes into notes and commit messages as it is)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(str(h)), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    print(f"\n{title}\n")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


@dataclass(frozen=True)
class Figure:
    """One headline number for the summary table, with its same-run baseline and the target we hold it to."""

    bench: str
    name: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""


def print_summary(figures: Sequence[Figure], *, title: str = "Summary") -> None:
    rows = [(f.bench, f.name, f.value, f.baseline, f.ratio, f.target) for f in figures]
    print_table(title, ("bench", "figure", "pinhole", "baseline", "ratio", "target"), rows)


def machine_note() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, libvips {pyvips.version(0)}.{pyvips.version(1)}"


def pipeline_colour(source: bytes) -> dict[str, str]:
    """The colour option pinhole's pipeline gives `thumbnail` for this source: `export_profile` only when its profile
    or pixels need converting (imaging/profiles.py); always, for a pinhole from before that check existed."""
    try:
        from pinhole.imaging.profiles import needs_srgb_conversion
    except ImportError:
        return {"export_profile": "srgb"}
    header = pyvips.Image.new_from_buffer(source, "", access="sequential")
    return {"export_profile": "srgb"} if needs_srgb_conversion(header) else {}
