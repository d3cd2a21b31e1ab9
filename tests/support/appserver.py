"""Serve a test's own app over real HTTP on loopback, in the test's event loop, for clients that need a socket.

The app (and its lifespan) is the one the `app` fixture built, so a test can still reach its runtime; uvicorn
serves it from a task of the same event loop, and a blocking client (tuspy, a raw socket) runs in a worker thread
(`anyio.to_thread.run_sync`) so the loop stays free to answer it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    """Yield the base URL (`http://127.0.0.1:<port>`) while uvicorn serves `app`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
