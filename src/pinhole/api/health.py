"""Probes for load balancers and orchestrators, outside every API dialect.

- `GET /healthz`: the process is alive and serving (no I/O), always 200 `{"status": "ok"}`.
- `GET /readyz`: the database and the blob store answer; 200 `{"status": "ready", "checks": {...}}`, else 503
  `{"status": "unavailable", "checks": {"database": "ok", "storage": "unavailable: TimeoutError"}}` naming the failed
  one. Error details are exception types only (no hostnames or credentials). Redis (when `PINHOLE_REDIS__URL` is
  set) is checked and named too, but serving does not need it: when only Redis fails the answer is still 200,
  `{"status": "degraded", "checks": {..., "redis": "unavailable: ConnectionError"}}`.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pinhole.api.deps import RuntimeDep
from pinhole.services.health import check_dependencies

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz", name="healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz", name="readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = await check_dependencies(db=runtime.db, store=runtime.store, redis=runtime.redis)
    ready = all(check.ok for check in checks if check.required)
    body = {
        "status": ("ready" if all(check.ok for check in checks) else "degraded") if ready else "unavailable",
        "checks": {check.name: "ok" if check.ok else f"unavailable: {check.error}" for check in checks},
    }
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)
