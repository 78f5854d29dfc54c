"""``create_app(settings)``: the HTTP and WebSocket server.

Everything is wired in the lifespan: the store (migrated), the bus, the runtime
(embedder, knowledge base, model ladder) and the conversation service. The
embedding model loads in a worker thread after start-up; ``/readyz`` answers 503
until it has, and ``/healthz`` answers at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from bot import __version__
from bot.bus.memory import MemoryBus
from bot.bus.redis import RedisBus
from bot.chat.agents import AgentService
from bot.chat.budget import Budget
from bot.chat.privacy import Privacy
from bot.chat.recovery import TurnLeases, recover_forever
from bot.chat.service import ChatService
from bot.chat.staffing import Staffing
from bot.chat.uploads import UploadService
from bot.chat.webhooks import Webhook
from bot.errors import ConfigurationError
from bot.runtime import Runtime
from bot.server import console, telephony
from bot.server.abuse import SocketLimits, client_key
from bot.server.agent_ws import agent_socket
from bot.server.assets import read_static
from bot.server.chat_ws import chat_socket
from bot.server.hosts import PROBES, AllowedHosts, default_hosts
from bot.server.metrics import Metrics
from bot.server.openapi import describe
from bot.server.state import Services
from bot.server.uploads import bearer, create_upload, get_upload
from bot.settings import Settings
from bot.store.sql import SqlStore
from bot.telephony.calls import CallService
from bot.telephony.session import Voice

log = logging.getLogger(__name__)
WORKER_THREADS = 64
HOUSEKEEPING_SECONDS = 3600.0


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class Credentials(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """The server for ``settings``; ``runtime`` may be given to share loaded models."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Searches wait in worker threads for their batched query embedding; with the
        # default pool (cores + 4 threads) a burst of turns would queue for a thread
        # instead of joining the batch.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="supportbot")
        )
        rt = runtime or Runtime(settings)
        store = SqlStore(settings.database)
        await store.start()
        bus: MemoryBus
        if settings.redis_url:
            redis_bus = RedisBus(settings.redis_url)
            await redis_bus.start()
            bus = redis_bus
        else:
            bus = MemoryBus()
        metrics = Metrics()
        uploads = UploadService(
            store,
            settings.uploads_path,
            transcriber=lambda: rt.transcriber,
            reader=lambda: rt.image_reader,
            limits=rt.upload_limits,
            timeout=settings.perception_timeout,
            on_perceived=metrics.observe_perception,
            unattached_grace=settings.unattached_upload_hours * 3600,
        )
        if removed := await asyncio.to_thread(uploads.sweep):
            log.warning("removed %d partial uploads left by an earlier process", removed)
        webhook = None
        if settings.webhook_url:
            if not settings.webhook_secret:
                raise ConfigurationError(
                    "SUPPORTBOT_WEBHOOK_URL needs SUPPORTBOT_WEBHOOK_SECRET to sign its events"
                )
            webhook = Webhook(settings.webhook_url, settings.webhook_secret)
        leases = TurnLeases(store)
        chat = ChatService(
            store,
            bus,
            rt.answer,
            max_chars=settings.max_question_chars,
            on_turn=metrics.observe_turn,
            uploads=uploads,
            notify=webhook.emit if webhook else None,
            staffing=Staffing(store, settings.hours),
            budget=Budget(
                store,
                conversation_tokens=settings.conversation_token_budget,
                daily_usd=settings.daily_budget_usd,
            ),
            leases=leases,
        )
        agents = AgentService(store, chat)
        calls = CallService(store, chat, settings.phone_transfer)
        voice = Voice(
            transcriber=lambda: rt.transcriber,
            synthesizer=lambda: rt.synthesizer,
            end_of_turn_ms=settings.phone_end_of_turn_ms,
        )
        services = Services(
            settings,
            rt,
            store,
            bus,
            chat,
            uploads,
            agents,
            metrics,
            calls,
            voice,
            SocketLimits(settings),
            Privacy(store, bus, settings.uploads_path),
        )
        app.state.services = services
        warm = asyncio.create_task(_warm(services))
        housekeeping = asyncio.create_task(_housekeeping(services))
        # Questions whose turn died with a process (this one before a restart, or another
        # replica) are answered here once their lease lapses.
        recovery = asyncio.create_task(recover_forever(store, leases, chat.resume_turn))
        try:
            yield
        finally:
            warm.cancel()
            housekeeping.cancel()
            recovery.cancel()
            await uploads.drain(timeout=10)
            await chat.drain(timeout=10)
            if webhook is not None:
                await webhook.close()
            await bus.close()
            await store.close()

    app = FastAPI(
        title="supportbot", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_api_websocket_route("/ws/chat", chat_socket)
    app.add_api_websocket_route("/ws/agent", agent_socket)
    raw_routes: list[tuple[str, Callable[..., Any], str]] = [
        ("/console", console.console_page, "GET"),
        ("/console/{name}", console.console_assets, "GET"),
        ("/api/agent/agents", console.create_agent_account, "POST"),
        ("/api/agent/report", console.report, "GET"),
        ("/api/agent/conversations/{conversation_id}/turns", console.conversation_turns, "GET"),
        ("/api/conversations/{conversation_id}", console.erase_conversation, "DELETE"),
        ("/api/uploads", create_upload, "POST"),
        ("/api/uploads/{upload_id}", get_upload, "GET"),
        ("/telephony/twilio/voice", telephony.voice, "POST"),
        ("/telephony/twilio/after-stream", telephony.after_stream, "POST"),
    ]
    for path, endpoint, method in raw_routes:
        # These read the request themselves: their inputs are described for OpenAPI.
        app.add_api_route(
            path, endpoint, methods=[method], openapi_extra=describe(endpoint.__name__)
        )
    app.add_api_websocket_route("/telephony/twilio/stream", telephony.stream)
    if settings.origins:
        # The widget on an allowed site uploads from its own origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    # Outermost: a request for another host name is refused before anything else runs.
    # Probes address a replica by its IP; so do scrapers, but metrics are exempt only
    # behind their own token (else a rebinding page could read them).
    app.add_middleware(
        AllowedHosts,
        hosts=[*default_hosts(settings.host, settings.public_url), *settings.hosts],
        exempt=PROBES | ({"/metrics"} if settings.metrics_token else set()),
    )

    @app.post("/api/agent/login")
    async def agent_login(
        request: Request, services: ServicesDep, credentials: Credentials
    ) -> JSONResponse:
        address = client_key(request)
        if refusal := services.limits.login(credentials.name, address):
            wait = str(max(1, round(refusal.retry_after)))
            return JSONResponse(
                {"code": refusal.code, "message": refusal.message},
                status_code=429,
                headers={"Retry-After": wait},
            )
        token = await services.agents.login(credentials.name, credentials.password)
        if token is None:
            return JSONResponse(
                {"code": "unauthorized", "message": "Wrong name or password."}, status_code=401
            )
        return JSONResponse({"token": token})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(services: ServicesDep) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await services.store.ping()
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"error: {type(exc).__name__}"
        if isinstance(services.bus, RedisBus):
            try:
                await services.bus.ping()
                checks["bus"] = "ok"
            except Exception as exc:
                checks["bus"] = f"error: {type(exc).__name__}"
        else:
            checks["bus"] = "ok"
        if services.warm_error:
            checks["knowledge"] = f"error: {services.warm_error}"
        else:
            checks["knowledge"] = "ok" if services.warmed.is_set() else "loading"
            kb = services.runtime.knowledge
            why = await asyncio.to_thread(kb.probe) if services.warmed.is_set() else None
            if why:
                # Still answering (from the in-memory index), and every replica shares the
                # Chroma server: taking them all out of rotation would help nobody.
                checks["knowledge"] = f"degraded: {why}; searching the in-memory index only"
        # Whisper and OCR load after the knowledge base; text turns need not wait for them.
        checks["perception"] = services.perception
        ready = not services.perception.startswith("error") and all(
            v == "ok" or v.startswith("degraded") for k, v in checks.items() if k != "perception"
        )
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics(request: Request, services: ServicesDep) -> Response:
        if settings.metrics_token and not hmac.compare_digest(
            (bearer(request) or "").encode(), settings.metrics_token.encode()
        ):
            return JSONResponse(
                {"code": "unauthorized", "message": "Send the metrics token as a bearer token."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse)
    async def demo_page() -> HTMLResponse:
        """A stand-in for a customer's website, with the widget embedded by one tag."""
        return HTMLResponse(read_static("index.html"), headers={"Content-Security-Policy": _CSP})

    @app.get("/demo.css")
    async def demo_css() -> Response:
        return Response(read_static("demo.css"), media_type="text/css")

    @app.get("/widget.js")
    async def widget() -> Response:
        # Cached briefly: a site keeps working across a deploy, and picks the new one up soon.
        return Response(
            read_static("widget.js"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return app


# What a site embedding the widget needs: the script and its connections to this server,
# blob: images (screenshot previews). No inline script; the widget's styles are a
# constructed stylesheet, so no 'unsafe-inline' for styles either.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'"
)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 for a request that does not validate, saying where and why but never echoing
    what was sent: pydantic puts the refused value in each error's ``input`` (a
    1,025-character password would come back whole), and ``ctx`` can hold it too."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in errors]
    where = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in errors[:3]
    )
    return JSONResponse(
        {"code": "invalid_input", "message": f"Invalid request: {where}.", "detail": detail},
        status_code=422,
    )


async def _warm(services: Services) -> None:
    """Load the embedder and the knowledge snapshot, then Whisper and OCR, off the loop."""
    failed = await _load(services.runtime.warm, "the knowledge base")
    if failed:
        services.warm_error = failed
    else:
        services.warmed.set()
    phone = bool(services.settings.twilio_auth_token)
    failed = await _load(
        lambda: services.runtime.warm_perception(voice=phone), "Whisper, OCR or the phone voice"
    )
    services.perception = f"error: {failed}" if failed else "ok"


async def _housekeeping(services: Services) -> None:
    """Hourly: erase conversations past the retention period, remove upload folders of
    conversations erased on another replica, and sweep uploads never sent with a message
    (and this replica's files of those swept elsewhere). A failed round is logged and
    retried."""
    days = services.settings.retention_days
    while True:
        try:
            if days and (erased := await services.privacy.expire(days)):
                log.info("retention: erased %d conversations older than %g days", erased, days)
            await services.privacy.sweep()
        except Exception:
            log.exception("retention sweep failed; retrying in an hour")
        try:
            swept = await services.uploads.sweep_unattached()
            if swept.rows or swept.files:
                log.info("uploads: %d never sent expired, %d files removed", *swept)
        except Exception:
            log.exception("sweep of unsent uploads failed; retrying in an hour")
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _load(load: Callable[[], None], what: str) -> str | None:
    """Run a blocking load in a thread; the error, as /readyz shows it, when it failed."""
    try:
        await asyncio.to_thread(load)
    except Exception as exc:
        log.exception("%s failed to load", what)
        return f"{type(exc).__name__}: {exc}"
    return None
