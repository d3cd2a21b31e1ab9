"""`pinhole doctor`: libvips and its formats, database, storage and Redis reachability, the proxy URL languages
(with the clients' own keys counted in the database), unsafe settings."""

from __future__ import annotations

from typing import Any

import pyvips
import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.db.engine import Database
from pinhole.db.migrate import pending_revisions
from pinhole.imaging.selftest import check_formats
from pinhole.proxies.report import KeyCounts, client_key_counts, proxy_lines, proxy_report, proxy_warnings
from pinhole.settings import Settings
from pinhole.shared.link import RedisLink
from pinhole.storage.factory import create_blob_store


async def _database(settings: Settings) -> dict[str, Any]:
    database = Database(settings.database_url)
    try:
        pending = await pending_revisions(database)
        return {"ok": True, "pendingMigrations": pending}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        await database.dispose()


async def _storage(settings: Settings) -> dict[str, Any]:
    store = create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3)
    try:
        await store.health_check()
        return {"ok": True, "backend": settings.storage.backend}
    except Exception as exc:
        return {"ok": False, "backend": settings.storage.backend, "error": str(exc)}
    finally:
        await store.aclose()


async def _redis(settings: Settings) -> dict[str, Any] | None:
    link = RedisLink.from_settings(settings.redis)
    if link is None:
        return None
    try:
        await link.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        await link.aclose()


def warnings_for(settings: Settings, proxy_keys: KeyCounts | None = None) -> list[str]:
    found = []
    if not settings.uploads.strip_metadata:
        found.append("uploads.strip_metadata is off: GPS positions and camera data in uploads are served to anyone")
    if settings.server.host in ("0.0.0.0", "::") and settings.server.public_url is None:  # noqa: S104
        found.append("listening on all interfaces without server.public_url: links follow the Host header")
    if settings.uploads.max_pixels > 200_000_000:
        found.append("uploads.max_pixels is over 200 megapixels: one upload can exhaust memory")
    if settings.signing.mode == "off":
        found.append("signing.mode is off: anyone may have the server render any size of any public image")
    if settings.imaging.queue_size > 1000:
        found.append("imaging.queue_size is very large: overload turns into memory growth instead of 503s")
    if settings.server_workers > 1 and settings.redis.url is None:
        found.append("several server workers without redis.url: rate limits and sign-in back-off count per process")
    if settings.variant_cache.max_bytes == 0:
        found.append("variant_cache.max_bytes is 0: rendered variants grow without bound until the disk is full")
    return found + proxy_warnings(settings, proxy_keys)


def _flags(check: dict[str, Any]) -> str:
    return ("r" if check["read"] else "-") + ("w" if check["write"] else "-")


def doctor(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    settings = settings_from(config)
    proxy_keys = run(client_key_counts(settings))
    report: dict[str, Any] = {
        "libvips": ".".join(str(pyvips.version(i)) for i in range(3)),
        "formats": {
            check.name: {
                "read": check.input,
                "write": check.output,
                "mime": check.mime,
                "decoder": check.decoder,
                "encoder": check.encoder,
                "web": check.web,
            }
            for check in check_formats()
        },
        "database": run(_database(settings)),
        "storage": run(_storage(settings)),
        "warnings": warnings_for(settings, proxy_keys),
        "proxies": proxy_report(settings, proxy_keys),
    }
    redis = run(_redis(settings))
    if redis is not None:  # not configured: not shown
        report["redis"] = redis
    ok = report["database"]["ok"] and report["storage"]["ok"]
    lines = [
        f"libvips {report['libvips']}",
        "formats (a real round trip: r = read and resized, w = written and read back):",
        *(f"  {n:5} {_flags(v)}  {v['mime']} via {v['decoder']}" for n, v in report["formats"].items()),
        f"database: {'ok' if report['database']['ok'] else 'FAILED ' + report['database']['error']}",
        f"storage: {'ok' if report['storage']['ok'] else 'FAILED ' + report['storage'].get('error', '')}",
        *(
            [f"redis: {'ok' if redis['ok'] else 'unavailable (served from in-process state) ' + redis['error']}"]
            if redis
            else []
        ),
        *proxy_lines(report["proxies"]),
        *(f"warning: {w}" for w in report["warnings"]),
    ]
    emit(report, as_json=as_json, text="\n".join(lines))
    if not ok:
        raise typer.Exit(1)
