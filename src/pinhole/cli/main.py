"""`pinhole`: serve, migrate, check and administer. Every command has --help."""

from __future__ import annotations

import typer

from pinhole.cli import cache, clients, db, doctor, images, keys, migrate, serve, sign, stats, store, uploadkeys, users

app = typer.Typer(help="pinhole: self-hosted image hosting and delivery.", no_args_is_help=True, add_completion=False)
app.command(name="serve", help="Run the HTTP server.")(serve.serve)
app.command(name="doctor", help="Check libvips, the database, storage and settings.")(doctor.doctor)
app.command(name="sign", help="Print a signed transform URL for an image.")(sign.sign)
app.add_typer(db.app, name="db")
app.add_typer(clients.app, name="clients")
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(uploadkeys.app, name="uploadkeys")
app.add_typer(cache.app, name="cache")
app.add_typer(stats.app, name="stats")
app.add_typer(migrate.app, name="migrate")
app.add_typer(store.app, name="store")
app.add_typer(images.app, name="images")


def main() -> None:
    app()
