"""`GET /v2/client/stats`: a client's (or a user's) usage and quotas (docs/apis.md, "v2")."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.principals import ClientPrincipal
from pinhole.dialects.v2.admin_schemas import ClientStatsResponse, Counters, QuotaUsage, UserCounters
from pinhole.dialects.v2.errors import V2Route
from pinhole.security.policy import Action, require
from pinhole.services import quotas
from pinhole.services import stats as stats_service

router = APIRouter(tags=["v2"], route_class=V2Route)


def counters(found: stats_service.ClientStats) -> Counters:
    return Counters(**asdict(found))


def quota_rows(found: list[quotas.Usage]) -> list[QuotaUsage]:
    return [QuotaUsage(quota=q.quota, limit=q.limit, used=q.used) for q in found]


@router.get(
    "/client/stats",
    name="client.stats",
    summary="Client statistics (image count, size, views...) and quota usage",
    response_model=ClientStatsResponse,
)
async def client_stats(runtime: RuntimeDep, db: DatabaseDep, principal: ClientPrincipal) -> ClientStatsResponse:
    require(principal, Action.LIST, hide=False)  # what the tenant keeps; upload keys may not list
    assert principal.client_id is not None
    client = None
    if principal.speaks_for_client:
        client = counters(await stats_service.client_stats(db=db, client_id=principal.client_id))
    user = None
    if principal.user_id is not None:
        own = await stats_service.user_stats(db=db, client_id=principal.client_id, owner_id=principal.user_id)
        user = UserCounters(user_id=principal.user_id, **asdict(own))
    _, usage = await stats_service.quota_usage(
        db=db,
        defaults=runtime.ingest_policy.quotas,
        client_id=principal.client_id,
        owner_id=principal.user_id,
    )
    if not principal.speaks_for_client:  # an account sees its own quotas, not its tenant's
        usage = [q for q in usage if q.quota.startswith("user_")]
    return ClientStatsResponse(client_id=principal.client_id, client=client, user=user, quotas=quota_rows(usage))
