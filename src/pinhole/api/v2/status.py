"""`GET /v2/status`: health and the calling key's client."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from pinhole import __version__
from pinhole.api.deps import RuntimeDep
from pinhole.api.v2.auth import OptionalClient
from pinhole.api.v2.errors import V2Route
from pinhole.api.v2.schemas import ApiKeyInfo, Status

router = APIRouter(tags=["v2"], route_class=V2Route)
log = logging.getLogger(__name__)


@router.get("/status", name="status", summary="Health check + API key info", response_model=Status)
async def status(runtime: RuntimeDep, client: OptionalClient) -> Status:
    database = storage = "ok"
    try:
        await runtime.db.ping()
    except Exception:
        log.exception("database health check failed")
        database = "unavailable"
    try:
        await runtime.store.health_check()
    except Exception:
        log.exception("storage health check failed")
        storage = "unavailable"
    key = None
    if client is not None:
        key = ApiKeyInfo(
            client_id=client.id,
            client_name=client.name,
            key_prefix=client.api_key_prefix,
            active=client.active,
        )
    healthy = database == storage == "ok"
    return Status(
        status="ok" if healthy else "degraded",
        version=__version__,
        database=database,
        storage=storage,
        api_key=key,
    )
