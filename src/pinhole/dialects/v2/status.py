"""`GET /v2/status`: health and the calling key's client."""

from __future__ import annotations

from fastapi import APIRouter

from pinhole import __version__
from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.principals import OptionalClient
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.schemas import ApiKeyInfo, Status
from pinhole.services.health import check_dependencies

router = APIRouter(tags=["v2"], route_class=V2Route)


@router.get("/status", name="status", summary="Health check + API key info", response_model=Status)
async def status(runtime: RuntimeDep, db: DatabaseDep, client: OptionalClient) -> Status:
    checks = {check.name: check for check in await check_dependencies(db=db, store=runtime.store)}
    database = "ok" if checks["database"].ok else "unavailable"
    storage = "ok" if checks["storage"].ok else "unavailable"
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
