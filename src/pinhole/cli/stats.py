"""`pinhole stats ...`: the usage counters the database keeps, and rebuilding them from the rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import connected
from pinhole.services import stats as stats_service
from pinhole.settings import Settings

app = typer.Typer(help="Usage statistics (counters kept exact by database triggers).", no_args_is_help=True)

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Only report counters that differ from the rows; change nothing.")
]


async def _show(settings: Settings) -> dict[str, Any]:
    async with connected(settings) as db:
        found = await stats_service.global_stats(db=db)
    return {
        "clients": found.clients,
        "totals": asdict(found.totals),
        "sums": asdict(found.sums),
        "perClient": [{"id": c.id, "name": c.name, **asdict(s)} for c, s in found.per_client],
    }


async def _recount(settings: Settings, *, dry_run: bool) -> list[stats_service.Drift]:
    async with connected(settings) as db:
        return await stats_service.recount(db=db, fix=not dry_run)


@app.command("show", help="Show global totals and each client's counters.")
def show(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    data = run(_show(settings_from(config)))
    totals, sums = data["totals"], data["sums"]
    lines = [
        f"{data['clients']} clients, {sums['images']} images ({sums['original_bytes']} bytes), "
        f"{totals['variants']} variants ({totals['variant_bytes']} bytes), {sums['views']} views",
        *[
            f"{c['id']}  {c['name']}: {c['images']} images, {c['original_bytes']} bytes, "
            f"{c['variant_bytes']} variant bytes, {c['views']} views"
            for c in data["perClient"]
        ],
    ]
    emit(data, as_json=as_json, text="\n".join(lines))


@app.command("recount", help="Rebuild every counter from the rows and report the ones that had drifted.")
def recount(dry_run: DryRunOption = False, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    drift = run(_recount(settings_from(config), dry_run=dry_run))
    data = {
        "drift": [{"scope": d.scope, "counter": d.counter, "stored": d.stored, "actual": d.actual} for d in drift],
        "repaired": bool(drift) and not dry_run,
        "dryRun": dry_run,
    }
    if not drift:
        text = "counters match the rows"
    else:
        verb = "differ" if dry_run else "were repaired"
        text = "\n".join(
            [f"{len(drift)} counter(s) {verb}:"]
            + [f"  {d.scope} {d.counter}: stored {d.stored}, actual {d.actual}" for d in drift]
        )
    emit(data, as_json=as_json, text=text)
