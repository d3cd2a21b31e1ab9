"""`pinhole store ...`: reconcile the blob store with the database (the sweep every server runs), on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import open_database
from pinhole.cli.progress import ProgressReport
from pinhole.services.store_sweep import SweepReport, count_entries, purge_kept, sweep
from pinhole.settings import Settings
from pinhole.storage.factory import create_blob_store

app = typer.Typer(help="The blob store: check it against the database, repair it.", no_args_is_help=True)

RepairOption = Annotated[
    bool,
    typer.Option(
        "--repair",
        help="Remove what the check finds: temp files, unfinished uploads, blobs and variants no row refers to "
        "(older than the grace period), and kept files past their retention. Without it, nothing changes.",
    ),
]
GraceOption = Annotated[
    int | None,
    typer.Option(
        "--grace-seconds",
        min=0,
        help="Only leftovers older than this count (default: PINHOLE_STORAGE__SWEEP_GRACE_SECONDS); keep it above "
        "the longest upload when servers are running.",
    ),
]


async def _check(settings: Settings, *, repair: bool, grace: float) -> SweepReport:
    database = await open_database(settings)
    store = create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3)
    try:
        total = await count_entries(database)  # rows; the store may hold more (orphans) or fewer (missing)
        with ProgressReport("checking the blob store", total or None) as progress:
            return await sweep(
                db=database,
                store=store,
                tmp_dir=settings.tmp_dir,
                grace_seconds=grace,
                retention_days=settings.storage.preserved_retention_days,
                repair=repair,
                progress=progress.advance,
            )
    finally:
        await store.aclose()
        await database.dispose()


def _summary(report: SweepReport) -> str:
    done = "removed" if report.repair else "found"
    lines = [
        f"{report.originals} originals and {report.variants} variants checked",
        f"temp files {done}: {report.temp_files} (store: {report.store_temp})",
        f"orphan originals {done}: {len(report.orphans)} (younger than the grace period: {report.young_orphans})",
        f"orphan variants {done}: {len(report.variant_orphans)}",
        f"recorded blobs missing from the store: {len(report.missing)}",
    ]
    if report.repair:
        lines.append(f"kept files past their retention, deleted: {len(report.kept_purged)}")
    lines += [f"missing: {content_hash}" for content_hash in report.missing]
    lines.append("ok" if report.ok else "NOT OK")
    return "\n".join(lines)


@app.command("check", help="Compare the blob store with the database: leftovers, orphans, missing blobs.")
def check(
    repair: RepairOption = False,
    grace_seconds: GraceOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    grace = settings.storage.sweep_grace_seconds if grace_seconds is None else grace_seconds
    report = run(_check(settings, repair=repair, grace=grace))
    emit(report.as_dict(), as_json=as_json, text=_summary(report))
    if not report.ok:
        raise typer.Exit(1)


async def _purge(settings: Settings, days: int) -> list[str]:
    database = await open_database(settings)
    store = create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3)
    try:
        return await purge_kept(db=database, store=store, older_than=datetime.now(UTC) - timedelta(days=days))
    finally:
        await store.aclose()
        await database.dispose()


@app.command("purge-kept", help="Delete files kept by deletes with preserveOnDisk that nothing refers to any more.")
def purge_kept_command(
    older_than_days: Annotated[
        int, typer.Option("--older-than-days", min=0, help="Only files kept at least this many days (0: all).")
    ] = 0,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    purged = run(_purge(settings_from(config), older_than_days))
    emit({"purged": purged}, as_json=as_json, text=f"deleted {len(purged)} kept file(s)")
