"""The aiohttp server: Bot API routes, file downloads and the driver routes.

Usage::

    emu = Emulator(token="42:TEST", bot_id=42, username="groupbuy_test_bot")
    await emu.start()          # port 0 -> a free port
    bot = Bot(emu.token, session=emu.aiogram_session())
    ...
    await emu.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.multipart import BodyPartReader

from sandbox import methods
from sandbox.clock import Clock
from sandbox.driver import Driver
from sandbox.errors import ApiError, bad_request
from sandbox.faults import Fault, Faults
from sandbox.flood import FloodControl
from sandbox.spec import Upload, load_schema
from sandbox.state import RequestLogEntry, State, UserRec

logger = logging.getLogger(__name__)


class Emulator(Driver):
    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_id: int | None = None,
        username: str = "test_bot",
        first_name: str = "Test Bot",
        clock: Clock | None = None,
        enforce_flood_limits: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.clock = clock or Clock()
        bot_id = bot_id if bot_id is not None else int(token.split(":", 1)[0])
        bot = UserRec(bot_id, first_name, None, username, None, is_bot=True)
        self.state = State(bot, self.clock)
        self.flood = FloodControl(enforce_flood_limits)
        self.faults = Faults()
        self.schema = load_schema()
        self._ctx = methods.Ctx(self.state, self.flood, token)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self.app = self._build_app()

    # --- lifecycle ---------------------------------------------------------------
    def _build_app(self) -> web.Application:
        from sandbox.driver_http import add_driver_routes

        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_driver_routes(app, self)
        return app

    async def start(self) -> str:
        self.state.closing = False
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        # Release long polls so aiogram's polling loop can exit promptly.
        self.state.closing = True
        self.state.changed()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def aiogram_session(self) -> Any:
        """An ``AiohttpSession`` pointed at this emulator."""
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        return AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))

    # --- Bot API -------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        params: dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            spec = self.schema.method(name)
            if spec is None:
                raise ApiError(404, "Not Found")
            name = spec.name
            raw, uploads = await _read_params(request)
            params = self.schema.validate(spec, raw, uploads)
            injected = self.flood.check_injected(spec.name)
            if injected is not None:
                raise injected
            handler = methods.REGISTRY.get(spec.name.lower())
            if handler is None:
                raise bad_request(f"method {spec.name} is not implemented by the emulator")
            fault = self.faults.match(spec.name, params)
            if fault is not None:
                error = fault.error()
                if error is not None:
                    raise error
                if fault.fault is Fault.DELAY:
                    await asyncio.sleep(fault.seconds)
                elif fault.fault is Fault.RESET_BEFORE:
                    return self._reset(request, name, params)
            result = await handler(self._ctx, params)
            if fault is not None and fault.fault is Fault.RESET_AFTER:
                return self._reset(request, name, params)
        except ApiError as e:
            self._log(name, params, e.description)
            return web.json_response(e.to_json(), status=e.code)
        except Exception as e:
            # An emulator bug: answer in Bot API shape so the bot logs something readable.
            logger.exception("emulator failed on %s", name)
            err = ApiError(500, f"Internal Server Error: emulator bug: {e!r}")
            self._log(name, params, err.description)
            return web.json_response(err.to_json(), status=500)
        self._log(name, params, None)
        return web.json_response({"ok": True, "result": result})

    def _reset(self, request: web.Request, name: str, params: dict[str, Any]) -> web.Response:
        """Drop the connection: the bot gets no answer (a reset), whatever was done."""
        self._log(name, params, "connection reset (injected)")
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=502)  # never reaches the bot

    def _log(self, method: str, params: dict[str, Any], error: str | None) -> None:
        shown = {
            k: f"<file {v.filename} {len(v.data)}B>" if isinstance(v, Upload) else v
            for k, v in params.items()
        }
        entry = RequestLogEntry(method, shown, error is None, error, self.clock.now())
        self.state.requests_log.append(entry)
        if method.lower() != "getupdates":
            self.state.changed(
                {"type": "request", "method": method, "ok": error is None, "error": error}
            )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        path = request.match_info["path"]
        for f in self.state.files.values():
            if f.file_path == path:
                return web.Response(
                    body=f.data, content_type=f.mime_type or "application/octet-stream"
                )
        return web.json_response(ApiError(404, "Not Found").to_json(), status=404)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Merge query string and body (JSON, urlencoded or multipart) into raw params."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    ctype = request.content_type
    if request.method == "GET" or not request.can_read_body:
        return raw, uploads
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        raw.update(body)
    elif ctype == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename is not None:
                ctype_part = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(bytes(data), part.filename, ctype_part)
            else:
                raw[part.name] = bytes(data).decode("utf-8")
    else:
        form = await request.post()
        for key, value in form.items():
            raw[key] = value if isinstance(value, str) else json.dumps(str(value))
    return raw, uploads
