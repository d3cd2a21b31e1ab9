"""`pinhole cache ...`: the variant cache's size, and pruning it to its budget."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import open_database
from pinhole.services.variant_cache import PruneResult, cache_stats, prune_variants
from pinhole.settings import Settings
from pinhole.storage.factory import create_blob_store

app = typer.Typer(help="The variant cache (rendered transforms kept in the blob store).", no_args_is_help=True)

MaxBytesOption = Annotated[
    int | None,
    typer.Option(
        "--max-bytes",
        min=0,
        help="Prune down to this many bytes (0 empties the cache) instead of the configured budget "
        "(PINHOLE_VARIANT_CACHE__MAX_BYTES, down to its low-water mark).",
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Report what would be evicted; change nothing.")]


async def _stats(settings: Settings) -> dict[str, Any]:
    database = await open_database(settings)
    try:
        stats = await cache_stats(db=database)
    finally:
        await database.dispose()
    return {
        "variants": stats.variants,
        "remoteOriginals": stats.origins,  # fetched originals of the proxy URL languages, in the same budget
        "bytes": stats.bytes,
        "maxBytes": settings.variant_cache.max_bytes,
    }


async def _prune(settings: Settings, *, max_bytes: int, target_bytes: int, dry_run: bool) -> PruneResult:
    database = await open_database(settings)
    store = create_blob_store(backend=settings.storage.backend, local_root=settings.blob_root, s3=settings.storage.s3)
    try:
        return await prune_variants(
            db=database, store=store, max_bytes=max_bytes, target_bytes=target_bytes, dry_run=dry_run
        )
    finally:
        await store.aclose()
        await database.dispose()


@app.command("stats", help="Show how many variants (and fetched remote originals) are stored and their bytes.")
def stats(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    data = run(_stats(settings_from(config)))
    budget = f"{data['maxBytes']} bytes" if data["maxBytes"] else "unlimited"
    origins = f", {data['remoteOriginals']} remote originals" if data["remoteOriginals"] else ""
    emit(data, as_json=as_json, text=f"{data['variants']} variants{origins}, {data['bytes']} bytes (budget: {budget})")


@app.command("prune", help="Evict least recently used variants until the cache fits its budget.")
def prune(
    max_bytes: MaxBytesOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    cache = settings.variant_cache
    if max_bytes is None and cache.max_bytes == 0:
        typer.echo("error: no budget: set PINHOLE_VARIANT_CACHE__MAX_BYTES or pass --max-bytes", err=True)
        raise typer.Exit(2)
    budget, target = (max_bytes, max_bytes) if max_bytes is not None else (cache.max_bytes, cache.target_bytes)
    result = run(_prune(settings, max_bytes=budget, target_bytes=target, dry_run=dry_run))
    data = {
        "evicted": result.evicted,
        "bytesFreed": result.bytes_freed,
        "bytesRemaining": result.bytes_remaining,
        "maxBytes": budget,
        "targetBytes": target,
        "dryRun": dry_run,
    }
    verb = "would evict" if dry_run else "evicted"
    text = f"{verb} {result.evicted} variants ({result.bytes_freed} bytes); {result.bytes_remaining} bytes remain"
    emit(data, as_json=as_json, text=text)
