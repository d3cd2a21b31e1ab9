"""`pinhole`: serve, migrate, check and administer. Every command has --help."""

from __future__ import annotations

import typer

from pinhole.cli import cache, clients, db, doctor, serve

app = typer.Typer(help="pinhole: self-hosted image hosting and delivery.", no_args_is_help=True, add_completion=False)
app.command(name="serve", help="Run the HTTP server.")(serve.serve)
app.command(name="doctor", help="Check libvips, the database, storage and settings.")(doctor.doctor)
app.add_typer(db.app, name="db")
app.add_typer(clients.app, name="clients")
app.add_typer(cache.app, name="cache")


def main() -> None:
    app()
