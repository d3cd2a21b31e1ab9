"""`pinhole serve`: migrations (on the embedded default), then granian with N worker processes.

granian was chosen on measurements taken on a 2-core machine: Starlette's FileResponse served about 6.5k req/s
under granian (which implements `http.response.pathsend`) against 1.6k under uvicorn.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from pinhole import allocator
from pinhole.cli.common import ConfigOption, run, settings_from
from pinhole.cli.db import apply_migrations
from pinhole.observability.logging import configure_logging, dict_config
from pinhole.observability.multiprocess import multiprocess_metrics, serve_metrics
from pinhole.settings import Settings, SettingsError, resolve_secret


def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: server.port).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: server.workers, else one per CPU with Redis).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    settings = settings_from(config)
    # Before granian forks its workers, so they inherit it: bounded memory without any configuration.
    typer.echo(f"allocator: {allocator.limit_arenas()}")
    typer.echo(f"workers: {workers or settings.server_workers}")
    typer.echo(f"event loop: {event_loop(settings.server.loop)}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Workers inherit the environment: pin the data folder so relative paths mean the same in each of them.
    os.environ["PINHOLE_DATA_DIR"] = str(settings.data_dir.resolve())
    try:
        resolve_secret(settings)  # made once here, not raced by the workers
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if settings.should_auto_migrate:
        applied = run(apply_migrations(settings))
        if applied:
            typer.echo(f"applied {len(applied)} migration(s)")
    configure_logging(settings.log)
    # Before any worker starts (and imports prometheus_client): every worker writes its metrics to this folder.
    with multiprocess_metrics():
        metrics_port = settings.metrics.port if settings.metrics.enabled else None
        if metrics_port is not None:
            serve_metrics(host or settings.server.host, metrics_port, _metrics_token(settings))
        server = Server(
            "pinhole.app:factory",
            address=host or settings.server.host,
            port=port or settings.server.port,
            interface=Interfaces.ASGI,
            loop=Loops(event_loop(settings.server.loop)),
            workers=workers or settings.server_workers,
            factory=True,
            log_access=False,  # pinhole logs each request itself (PINHOLE_LOG__ACCESS), with its request id
            log_dictconfig=dict_config(settings.log),
            # A worker stuck in shutdown was seen once while benchmarking: never let one outlive the server.
            workers_kill_timeout=30,
        )
        server.serve()


def event_loop(choice: str) -> str:
    """granian's name for the loop `server.loop` asks for: `auto` takes uvloop where it is installed (granian's own
    `auto` would prefer its experimental rloop when present)."""
    if choice != "auto":
        return choice
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _metrics_token(settings: Settings) -> str | None:
    token = settings.metrics.token
    return token.get_secret_value() if token is not None else None
