"""The service objects routes call, built once per app by the composition root, and their dependency aliases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from pinhole.api.answers import raises
from pinhole.api.delivery import Delivery
from pinhole.errors import DatabaseBusy, LoginThrottled, Overloaded, StorageError
from pinhole.runtime import Runtime
from pinhole.services.library import Avatars, Images
from pinhole.services.signin import Signin


@dataclass(frozen=True)
class Services:
    images: Images
    avatars: Avatars
    delivery: Delivery


def build_signin(runtime: Runtime) -> Signin:
    accounts = runtime.settings.accounts
    return Signin(
        accounts=runtime.accounts,
        backoff=runtime.login_backoff,
        access_tokens=runtime.access_tokens,
        secret=runtime.secret,
        api_lifetime=timedelta(days=accounts.refresh_token_days),
        browser_lifetime=timedelta(days=accounts.browser_session_days),
    )


def build_services(runtime: Runtime) -> Services:
    images = Images(
        db=runtime.db,
        store=runtime.store,
        pool=runtime.pool,
        policy=runtime.ingest_policy,
        recent=runtime.recent,
        variants=runtime.variants,
        hot=runtime.hot,
        usage=runtime.usage,
        max_files=runtime.settings.uploads.max_files_per_request,
    )
    delivery = Delivery(runtime)
    # Every upload path ends in one of these two: the eager presets are rendered for each new image, once.
    images.on_new_image = runtime.resumable.on_new_image = delivery.render_eager
    avatars = Avatars(images, on_new_avatar=delivery.render_eager_avatar)
    return Services(images=images, avatars=avatars, delivery=delivery)


# async: a plain def dependency would be sent to the thread pool on every request
@raises(DatabaseBusy, StorageError)
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@raises(DatabaseBusy, StorageError)
async def get_images(request: Request) -> Images:
    return (await get_services(request)).images


@raises(DatabaseBusy, StorageError)
async def get_avatars(request: Request) -> Avatars:
    return (await get_services(request)).avatars


@raises(DatabaseBusy, StorageError, Overloaded)  # variants are made in the bounded pool
async def get_delivery(request: Request) -> Delivery:
    return (await get_services(request)).delivery


@raises(DatabaseBusy, LoginThrottled)
async def get_signin(request: Request) -> Signin:
    # Made per request, as cheap as a tuple: it reads the back-off and token issuer the runtime holds now.
    runtime: Runtime = request.app.state.runtime
    return build_signin(runtime)


ImagesDep = Annotated[Images, Depends(get_images)]
AvatarsDep = Annotated[Avatars, Depends(get_avatars)]
DeliveryDep = Annotated[Delivery, Depends(get_delivery)]
SigninDep = Annotated[Signin, Depends(get_signin)]
