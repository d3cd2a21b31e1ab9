"""`pinhole sign`: a signed transform URL for one image, made with the server's own signing keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pinhole.api.transform_query import TransformDefaults, TransformFields, to_options, transform_url
from pinhole.app import build_output_limits, build_signer
from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import open_database
from pinhole.errors import InvalidTransform
from pinhole.services.images import find_image
from pinhole.services.signed_urls import DAY, sign_transform
from pinhole.settings import Settings, resolve_secret

FIT_HELP = "inside (default) keeps the aspect ratio; cover crops to exactly w x h; fill stretches."


class SignError(Exception):
    """The image or the options are not signable; the message says why."""


async def signed_url(
    settings: Settings, image_id: str, options: dict[str, Any], *, expires_in: int | None
) -> dict[str, Any]:
    """`{"url", "expiresAt"}` for `options` (the serve query's words) of an existing image.

    The url is the v2 serve URL under `server.public_url`, or just its path when that is not set.
    """
    try:
        defaults = TransformDefaults(
            thumbnail_size=settings.imaging.thumbnail_size,
            limits=build_output_limits(settings),
            presets=settings.transforms.presets,
        )
        transform = to_options(TransformFields(**options), defaults)
    except InvalidTransform as exc:
        raise SignError(f"--{exc.field}: {exc.message}") from None
    database = await open_database(settings)
    try:
        image = await find_image(db=database, image_id=image_id, with_tags=False)
    finally:
        await database.dispose()
    if image is None:
        raise SignError(f"no image {image_id}")
    signer = build_signer(settings, resolve_secret(settings))
    signed = sign_transform(signer=signer, image_id=image.id, options=transform, expires_in=expires_in)
    base = f"{(settings.server.public_url or '').rstrip('/')}{settings.v2.prefix}/images/{image.id}"
    return {"url": transform_url(base, transform, signed.params), "expiresAt": signed.expires_at}


def sign(
    image_id: Annotated[str, typer.Argument(help="Id of the image.")],
    w: Annotated[int | None, typer.Option("--w", help="Resize width (pixels).")] = None,
    h: Annotated[int | None, typer.Option("--h", help="Resize height (pixels).")] = None,
    q: Annotated[int | None, typer.Option("--q", help="Quality, 1-100.")] = None,
    format: Annotated[str | None, typer.Option("--format", help="jpeg, png, webp, avif or gif.")] = None,
    fit: Annotated[str | None, typer.Option("--fit", help=FIT_HELP)] = None,
    thumb: Annotated[bool, typer.Option("--thumb", help="A square thumbnail (cropped to fill).")] = False,
    enlarge: Annotated[bool, typer.Option("--enlarge", help="Allow output larger than the original.")] = False,
    expires_in: Annotated[
        int | None,
        typer.Option("--expires-in", min=1, help="Seconds the URL works. Default: signing.max_expiry_days."),
    ] = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="A URL that never expires.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    if no_expiry and expires_in is not None:
        typer.echo("error: give --expires-in or --no-expiry, not both", err=True)
        raise typer.Exit(2)
    lifetime = None if no_expiry else expires_in or settings.signing.max_expiry_days * DAY
    options = {"w": w, "h": h, "q": q, "format": format, "fit": fit, "thumb": thumb, "enlarge": enlarge}
    try:
        result = run(signed_url(settings, image_id, options, expires_in=lifetime))
    except SignError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    emit(result, as_json=as_json, text=result["url"])
