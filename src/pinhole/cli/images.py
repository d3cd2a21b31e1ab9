"""`pinhole images ...`: maintenance of stored images (placeholders of images uploaded before they existed)."""

from __future__ import annotations

from typing import Annotated

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import open_database
from pinhole.cli.progress import ProgressReport
from pinhole.concurrency.pool import WorkerPool
from pinhole.services import placeholders
from pinhole.settings import Settings
from pinhole.storage.factory import create_blob_store

app = typer.Typer(help="Stored images.", no_args_is_help=True)

BatchOption = Annotated[int, typer.Option("--batch", min=1, max=1000, help="Originals read per database round.")]


async def _backfill(settings: Settings, *, batch: int) -> placeholders.BackfillResult:
    database = await open_database(settings)
    store = create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3)
    pool = WorkerPool(threads=settings.imaging.threads, queue_size=max(1, settings.imaging.queue_size))
    try:
        total = await placeholders.missing_count(database)
        with ProgressReport("placeholders", total) as progress:
            return await placeholders.backfill(
                db=database, store=store, pool=pool, batch=batch, advance=progress.advance
            )
    finally:
        await store.aclose()
        await database.dispose()


@app.command(
    "backfill-placeholders",
    help="Compute BlurHash, ThumbHash, colour and LQIP for images stored without them. Resumable: each image is "
    "saved as it is done, and a rerun continues with the images still missing them.",
)
def backfill_placeholders(batch: BatchOption = 50, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    result = run(_backfill(settings_from(config), batch=batch))
    data = {"done": result.done, "failed": result.failed}
    emit(data, as_json=as_json, text=f"{result.done} images given placeholders; {result.failed} originals unreadable")
