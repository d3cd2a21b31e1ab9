"""`pinhole-client`: pinhole from a terminal (login, upload, ls, get, url, rm), `--json` on everything.

Uploads of many files (globs, directories) run in parallel with a bound, show a progress bar per file and a
summary, and resume after Ctrl-C: each finished file is written to a journal (path, size, mtime, server) and
skipped by the next run; a large file sent through tus (when the server offers it) resumes from its offset.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pinhole_client import config, tus
from pinhole_client.client import Client
from pinhole_client.errors import PinholeError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".heic", ".heif", ".tif", ".tiff"}


def _client(args: argparse.Namespace) -> Client:
    login = config.read(config.login_path())
    if not login.get("url"):
        raise SystemExit("not logged in: run `pinhole-client login --url URL --key KEY`")
    return Client(
        login["url"], api_key=login.get("key"), token=login.get("token"), signing_key=login.get("signing_key")
    )


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


def cmd_login(args: argparse.Namespace) -> int:
    if not (args.key or args.token):
        raise SystemExit("login needs --key or --token")
    stored = {"url": args.url.rstrip("/"), "key": args.key, "token": args.token, "signing_key": args.signing_key}
    with Client(stored["url"], api_key=args.key, token=args.token) as client:
        status = client.status()  # checks the server answers and the credentials work
    config.write_private(config.login_path(), stored)
    _out(args, {"url": stored["url"], "status": status}, f"logged in to {stored['url']}")
    return 0


def expand(patterns: Sequence[str]) -> list[Path]:
    """Files named, matched by globs, or found (images only) under directories; each once, in order."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        matches = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))] or [Path(pattern)]
        for match in matches:
            if match.is_dir():
                for item in sorted(match.rglob("*")):
                    if item.is_file() and item.suffix.lower() in IMAGE_SUFFIXES:
                        found[item.resolve()] = None
            elif match.is_file():
                found[match.resolve()] = None
            else:
                raise SystemExit(f"no such file: {pattern}")
    return list(found)


class Journal:
    """Finished uploads, so a run after Ctrl-C skips them; keyed by server, path, size and mtime."""

    def __init__(self, server: str) -> None:
        self.path = config.journal_path()
        self.server = server
        self.done: dict[str, Any] = config.read(self.path)
        self.lock = threading.Lock()

    def key(self, path: Path) -> str:
        stat = path.stat()
        return f"{self.server}|{path}|{stat.st_size}|{stat.st_mtime_ns}"

    def get(self, path: Path) -> Any:
        return self.done.get(self.key(path))

    def record(self, path: Path, image: Any) -> None:
        with self.lock:
            self.done.pop(f"partial|{self.key(path)}", None)
            self.done[self.key(path)] = {"id": image["id"], "url": image.get("url")}
            config.write_private(self.path, self.done)

    def partial(self, path: Path) -> str | None:
        """The tus URL of this file's unfinished resumable upload, if one was started."""
        found = self.done.get(f"partial|{self.key(path)}")
        return found if isinstance(found, str) else None

    def started(self, path: Path, url: str) -> None:
        with self.lock:
            self.done[f"partial|{self.key(path)}"] = url
            config.write_private(self.path, self.done)


class Bars:
    """One line per file on stderr: `name  [#####.....]  45%`, redrawn as bytes go out."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.lock = threading.Lock()

    def show(self, name: str, sent: int, total: int) -> None:
        if not self.enabled:
            return
        share = sent / total if total else 1.0
        bar = "#" * int(share * 20)
        with self.lock:
            sys.stderr.write(f"\r{name[:40]:40} [{bar:20}] {share:4.0%}")
            if sent >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()


class Stopped(Exception):
    """Ctrl-C was pressed: uploads still running stop at their next chunk (a thread cannot be interrupted)."""


def cmd_upload(args: argparse.Namespace) -> int:
    files = expand(args.files)
    tags = [tag.strip() for tag in (args.tags or "").split(",") if tag.strip()]
    client = _client(args)
    journal = Journal(client.base_url)
    bars = Bars(enabled=not args.json and not args.quiet)
    skipped = [{"file": str(path), **journal.get(path)} for path in files if journal.get(path)]
    pending = [path for path in files if not journal.get(path)]
    uploaded: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    stopping = threading.Event()

    def progress(name: str, sent: int, total: int) -> None:
        if stopping.is_set():
            raise Stopped
        bars.show(name, sent, total)

    def one(path: Path) -> Any:
        image = client.upload(
            path,
            tags=tags,
            private=args.private,
            album=args.album,
            progress=lambda s, t: progress(path.name, s, t),
            resumable=True if args.resumable else None,
            resume_url=journal.partial(path),  # a large file resumes mid-way when the server speaks tus
            on_resumable=lambda url: journal.started(path, url),
            chunk_bytes=args.chunk_size,
        )
        journal.record(path, image)
        return image

    with client, ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        try:
            for path, result in _bounded(pool, one, pending, args.parallel):
                if isinstance(result, PinholeError):
                    failed.append({"file": str(path), "code": result.code, "message": result.message})
                else:
                    uploaded.append({"file": str(path), "id": result["id"], "url": result.get("url")})
        except KeyboardInterrupt:
            stopping.set()  # running uploads stop at their next chunk; tus ones resume from it next time
            pool.shutdown(wait=False, cancel_futures=True)
            print(f"interrupted: {len(uploaded)} uploaded; run the same command again to resume", file=sys.stderr)
            return 130
    summary = {"uploaded": uploaded, "skipped": skipped, "failed": failed}
    text = f"{len(uploaded)} uploaded, {len(skipped)} already uploaded (skipped), {len(failed)} failed"
    text += "".join(f"\n  failed {item['file']}: {item['code']} {item['message']}" for item in failed)
    _out(args, summary, text)
    return 1 if failed else 0


def _bounded(pool: ThreadPoolExecutor, work: Any, items: list[Path], bound: int) -> Iterator[tuple[Path, Any]]:
    """Run `work` on each item with at most `bound` in flight; yield (item, result or PinholeError)."""
    queue = list(reversed(items))
    running: dict[Future[Any], Path] = {}
    while queue or running:
        while queue and len(running) < max(1, bound):
            path = queue.pop()
            running[pool.submit(work, path)] = path
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            path = running.pop(future)
            error = future.exception()
            if isinstance(error, PinholeError):
                yield path, error
            elif error is not None:
                raise error
            else:
                yield path, future.result()


def cmd_ls(args: argparse.Namespace) -> int:
    filters = {"tag": args.tag, "search": args.search, "from_": args.since, "to": args.until, "limit": 100}
    with _client(args) as client:
        images = []
        for image in client.iter_images(**filters):
            images.append(image)
            if args.limit and len(images) >= args.limit:
                break
    lines = [f"{i['id']}  {i['width']}x{i['height']}  {i['format']:5}  {','.join(i['tags'])}" for i in images]
    _out(args, images, "\n".join(lines) or "(no images)")
    return 0


def _options(args: argparse.Namespace) -> dict[str, Any]:
    found = {"w": args.w, "h": args.h, "q": args.q, "format": args.format, "fit": args.fit}
    return {key: value for key, value in found.items() if value is not None} | {
        "thumb": args.thumb,
        "enlarge": args.enlarge,
    }


def cmd_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.download_named(args.id, **_options(args))
    if args.output == "-":
        sys.stdout.buffer.write(found.content)
        sys.stdout.flush()
        return 0
    target = Path(args.output or found.filename)
    if target.exists() and not args.force:
        raise SystemExit(f"{target} exists: pass --force to overwrite it, or -o to name another file")
    target.write_bytes(found.content)
    summary = {"id": args.id, "file": str(target), "bytes": len(found.content), "contentType": found.content_type}
    _out(args, summary, f"wrote {target} ({len(found.content)} bytes)")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    with _client(args) as client:
        url = client.url(args.id, sign=args.sign, expires_in=args.expires, **_options(args))
    _out(args, {"id": args.id, "url": url}, url)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    removed = []
    with _client(args) as client:
        for image_id in args.ids:
            client.images_delete(image_id)
            removed.append(image_id)
    _out(args, {"removed": removed}, "\n".join(f"removed {i}" for i in removed))
    return 0


def _transform_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--w", type=int, help="width")
    parser.add_argument("--h", type=int, help="height")
    parser.add_argument("--q", type=int, help="quality 1-100")
    parser.add_argument("--format", help="jpeg, png, webp, gif, avif")
    parser.add_argument("--fit", choices=["inside", "cover", "fill"])
    parser.add_argument("--thumb", action="store_true")
    parser.add_argument("--enlarge", action="store_true")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="pinhole-client", description=__doc__.splitlines()[0] if __doc__ else None)
    root.add_argument("--json", action="store_true", help="print JSON")
    commands = root.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="store the server URL and a key or token (0600)")
    login.add_argument("--url", required=True)
    login.add_argument("--key", help="an API key")
    login.add_argument("--token", help="an access token")
    login.add_argument("--signing-key", help="`id:secret`, to sign URLs locally")
    login.set_defaults(run=cmd_login)
    upload = commands.add_parser("upload", help="upload files, globs or directories")
    upload.add_argument("files", nargs="+")
    upload.add_argument("--album")
    upload.add_argument("--private", action="store_true")
    upload.add_argument("--tags", help="comma-separated")
    upload.add_argument("--parallel", type=int, default=4, help="uploads at once (default 4)")
    upload.add_argument("--quiet", action="store_true", help="no progress bars")
    upload.add_argument("--resumable", action="store_true", help="send every file through tus (default: 64 MiB+)")
    upload.add_argument("--chunk-size", type=int, default=tus.CHUNK_BYTES, help="bytes per tus request (8 MiB)")
    upload.set_defaults(run=cmd_upload)
    ls = commands.add_parser("ls", help="list images")
    ls.add_argument("--tag")
    ls.add_argument("--search")
    ls.add_argument("--since", help="uploaded at or after (ISO date)")
    ls.add_argument("--until", help="uploaded before (ISO date)")
    ls.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    ls.set_defaults(run=cmd_ls)
    get = commands.add_parser("get", help="download an image or a variant")
    get.add_argument("id")
    get.add_argument("-o", "--output", help="file to write (default: named from the answer: ID.webp); - writes stdout")
    get.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    _transform_options(get)
    get.set_defaults(run=cmd_get)
    url = commands.add_parser("url", help="print a variant's URL, signed with --sign")
    url.add_argument("id")
    _transform_options(url)
    url.add_argument("--sign", action="store_true")
    url.add_argument("--expires", type=int, help="seconds the signed URL stays valid")
    url.set_defaults(run=cmd_url)
    rm = commands.add_parser("rm", help="delete images")
    rm.add_argument("ids", nargs="+")
    rm.set_defaults(run=cmd_rm)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except PinholeError as error:
        detail = {"error": {"status": error.status, "code": error.code, "message": error.message}}
        _out(args, detail, f"error: {error.status} {error.code}: {error.message}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
