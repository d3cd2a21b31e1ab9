"""`pinhole migrate ...`: move blobs to another store and the metadata database to PostgreSQL.

The source is always the configured setup (`--config` / `PINHOLE_*`). The target store of `migrate storage` is read
from its own file (`--to`), never from the environment, so variables set for the source cannot leak into it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from pinhole.cli.common import ConfigOption, JsonOption, emit, fail, run, settings_from
from pinhole.cli.db import apply_migrations
from pinhole.cli.progress import ProgressReport
from pinhole.db.engine import Database
from pinhole.services import blob_copy, db_copy
from pinhole.settings import ENV_PREFIX, Settings, StorageSettings, env_name, normalize_database_url
from pinhole.storage.base import BlobStore
from pinhole.storage.factory import create_blob_store

app = typer.Typer(
    help="Move data from one machine (SQLite + a local folder) to the scaled setup (PostgreSQL + S3).",
    no_args_is_help=True,
)


class TargetStore(BaseSettings):
    """The target of `migrate storage`: the `storage` section (and `data_dir`) of a settings or env file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./data")
    storage: StorageSettings = StorageSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, dotenv_settings)  # the file only: never the process environment

    @property
    def blob_root(self) -> Path:
        return self.storage.local_root or self.data_dir / "blobs"


def load_target(path: Path) -> TargetStore:
    """A `.toml` file is read like `--config` files; any other file as `PINHOLE_...=value` lines (an env file)."""
    try:
        if path.suffix == ".toml":
            values: dict[str, Any] = tomllib.loads(path.read_text())
            return TargetStore(**{k: v for k, v in values.items() if k in {"data_dir", "storage"}})
        return TargetStore(_env_file=path)
    except tomllib.TOMLDecodeError as exc:
        fail(f"{path}: not a valid TOML file: {exc}", code=2)
    except ValidationError as exc:
        problems = "\n  ".join(f"{env_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        fail(f"invalid target in {path}:\n  {problems}", code=2)


def _describe(backend: str, root: Path, storage: StorageSettings) -> str:
    if backend == "local":
        return f"local:{root.resolve()}"
    return f"s3:{storage.s3.endpoint_url or 'aws'}/{storage.s3.bucket}/{storage.s3.prefix}"


ToFileOption = Annotated[
    Path,
    typer.Option(
        "--to",
        exists=True,
        dir_okay=False,
        help="File describing the target store: a TOML settings file (its \\[storage] section and data_dir) or an "
        "env file of PINHOLE_STORAGE__* lines (and PINHOLE_DATA_DIR). The process environment is not read for it.",
    ),
]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Blobs copied at once.")]
RetriesOption = Annotated[
    int, typer.Option("--retries", min=0, max=20, help="Retries of a blob after a storage failure (back-off doubles).")
]
VerifyOption = Annotated[
    bool,
    typer.Option("--verify", help="After copying, read every blob back from the target and check size and hash."),
]
RehashOption = Annotated[
    bool,
    typer.Option(
        "--rehash",
        help="Skip a blob already in the target only if its content hash matches too (reads it back); "
        "replaces damaged copies that --verify reported. Default: same size is enough.",
    ),
]
VerifyOnlyOption = Annotated[bool, typer.Option("--verify-only", help="Only verify the target; copy nothing.")]


@dataclass
class _StorageRun:
    copy: blob_copy.Report | None
    verify: blob_copy.Report | None


async def _storage(
    settings: Settings,
    target: TargetStore,
    *,
    concurrency: int,
    retries: int,
    rehash: bool,
    copy: bool,
    verify: bool,
) -> _StorageRun:
    database = Database(settings.database_url)
    source: BlobStore = create_blob_store(
        backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3
    )
    destination: BlobStore = create_blob_store(
        backend=target.storage.backend, local_root=target.blob_root, s3=target.storage.s3
    )
    try:
        entries = await blob_copy.known_blobs(db=database)
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        copied = verified = None
        if copy:
            with ProgressReport("copying blobs", len(entries)) as bar:
                copied = await blob_copy.copy_blobs(
                    entries=entries,
                    source=source,
                    target=destination,
                    concurrency=concurrency,
                    retries=retries,
                    rehash=rehash,
                    spool_dir=settings.tmp_dir,
                    progress=lambda _entry, _outcome: bar.advance(),
                )
        if verify:
            with ProgressReport("verifying blobs", len(entries)) as bar:
                verified = await blob_copy.verify_blobs(
                    entries=entries,
                    target=destination,
                    concurrency=concurrency,
                    retries=retries,
                    progress=lambda _entry, _outcome: bar.advance(),
                )
        return _StorageRun(copied, verified)
    finally:
        await destination.aclose()
        await source.aclose()
        await database.dispose()


def _report_data(report: blob_copy.Report | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "total": report.total,
        "copied": report.copied,
        "skipped": report.skipped,
        "bytesCopied": report.bytes_copied,
        "failed": len(report.failures),
        "failures": dict(sorted(report.failures.items())),
    }


def _storage_text(result: _StorageRun) -> str:
    lines: list[str] = []
    if result.copy is not None:
        c = result.copy
        lines.append(
            f"copy: {c.total} blobs, {c.copied} copied ({c.bytes_copied} bytes), "
            f"{c.skipped} already there, {len(c.failures)} failed"
        )
        lines += [f"  failed {key}: {why}" for key, why in sorted(c.failures.items())]
    if result.verify is not None:
        v = result.verify
        lines.append(f"verify: {v.total} blobs checked, {len(v.failures)} bad")
        lines += [f"  bad {key}: {why}" for key, why in sorted(v.failures.items())]
    return "\n".join(lines)


@app.command(
    "storage",
    help="Copy every original and variant the database knows from the configured store to the store described by "
    "--to. Resumable: blobs already in the target with the right size are skipped. Exits 1 if any blob failed.",
)
def storage(
    to: ToFileOption,
    concurrency: ConcurrencyOption = 8,
    retries: RetriesOption = 3,
    verify: VerifyOption = False,
    rehash: RehashOption = False,
    verify_only: VerifyOnlyOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    target = load_target(to)
    here = _describe(settings.storage.backend, settings.blob_root, settings.storage)
    there = _describe(target.storage.backend, target.blob_root, target.storage)
    if here == there:
        fail(f"the target store is the configured store ({here})", code=2)
    typer.echo(f"{here} -> {there}", err=True)
    result = run(
        _storage(
            settings,
            target,
            concurrency=concurrency,
            retries=retries,
            rehash=rehash,
            copy=not verify_only,
            verify=verify or verify_only,
        )
    )
    data = {"source": here, "target": there, "copy": _report_data(result.copy), "verify": _report_data(result.verify)}
    emit(data, as_json=as_json, text=_storage_text(result))
    if any(r is not None and not r.ok for r in (result.copy, result.verify)):
        raise typer.Exit(1)


ToUrlOption = Annotated[
    str,
    typer.Option(
        "--to",
        help="SQLAlchemy URL of the target database (e.g. postgresql://user:pass@host/pinhole); it must exist. "
        "It is migrated to the same schema version first.",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Delete every row the target holds before copying (otherwise a non-empty target is refused)."
    ),
]
BatchOption = Annotated[int, typer.Option("--batch-size", min=1, max=100_000, help="Rows inserted per statement.")]


async def _db(settings: Settings, url: str, *, force: bool, batch_size: int) -> db_copy.DbCopyReport:
    if settings.should_auto_migrate:
        await apply_migrations(settings)  # as `pinhole serve` would on the embedded default
    source, target = Database(settings.database_url), Database(url)
    try:
        with ProgressReport("copying rows", None) as bar:
            return await db_copy.copy_database(
                source=source,
                target=target,
                force=force,
                batch_size=batch_size,
                progress=lambda table, rows: bar.advance(rows, label=f"copying {table}"),
            )
    finally:
        await target.dispose()
        await source.dispose()


def _db_error(exc: BaseException) -> str:
    """The driver's own error (first line): SQLAlchemy's wrapper would add the statement and its row values."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"


def _db_text(report: db_copy.DbCopyReport) -> str:
    lines = [
        f"  {name}: {source} rows" + ("" if source == target else f", TARGET HAS {target}")
        for name, (source, target) in report.tables.items()
    ]
    lines += [f"  counter {d.scope} {d.counter}: {d.stored}, rows say {d.actual}" for d in report.counter_drift]
    head = "database copied; row counts and usage counters match" if report.ok else "database copy DOES NOT MATCH"
    return "\n".join([head, *lines])


@app.command(
    "db",
    help="Copy the configured metadata database (e.g. SQLite) into another (PostgreSQL): migrate the target, copy "
    "every table in one transaction, fix sequences, rebuild usage counters, compare row counts. Refuses a "
    "non-empty target unless --force. Exits 1 on any mismatch.",
)
def db(
    to: ToUrlOption,
    force: ForceOption = False,
    batch_size: BatchOption = db_copy.DEFAULT_BATCH_SIZE,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    url = normalize_database_url(to)
    if url == settings.database_url:
        fail("the target database is the configured database", code=2)
    try:
        report = run(_db(settings, url, force=force, batch_size=batch_size))
    except (OSError, SQLAlchemyError) as exc:
        fail(f"database error: {_db_error(exc)}")
    data = {
        "tables": {name: {"source": s, "target": t} for name, (s, t) in report.tables.items()},
        "counterDrift": [
            {"scope": d.scope, "counter": d.counter, "stored": d.stored, "actual": d.actual}
            for d in report.counter_drift
        ],
        "ok": report.ok,
    }
    emit(data, as_json=as_json, text=_db_text(report))
    if not report.ok:
        raise typer.Exit(1)
