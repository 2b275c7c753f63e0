"""The driver over HTTP: ``/_driver/<name>`` JSON endpoints and an event long poll.

POST bodies are the keyword arguments of the Python driver method of the same
name; GET query strings work for reads. Errors come back as 400 ``{"error": ...}``.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import DriverError

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

# Only these driver methods are reachable over HTTP.
ACTIONS = frozenset(
    {
        "add_user",
        "create_group",
        "add_member",
        "add_bot_to_group",
        "remove_bot_from_group",
        "upgrade_to_supergroup",
        "restrict_bot",
        "create_topic",
        "close_topic",
        "make_admin",
        "remove_admin",
        "block_bot",
        "send_message",
        "send_photo",
        "press_button",
        "press_raw",
        "advance",
        "inject_flood",
        "inject_fault",
        "pay_invoice",
        "resend_successful_payment",
    }
)
READS = frozenset({"messages", "last_message", "stats", "payments", "refunds"})


def add_driver_routes(app: web.Application, emu: Emulator) -> None:
    async def action(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            kwargs = await _kwargs(request)
            if name in ACTIONS or name in READS:
                fn = getattr(emu, name)
                _check_signature(fn, kwargs)
                result = fn(**kwargs)
                if inspect.isawaitable(result):
                    result = await result
            elif name in ("document_bytes", "photo_bytes"):
                read = emu.document_bytes if name == "document_bytes" else emu.photo_bytes
                data = read(int(kwargs["chat_id"]), int(kwargs["message_id"]))
                result = base64.b64encode(data).decode("ascii")
            elif name == "requests_log":
                result = emu.requests_log[int(kwargs.get("since", 0)) :]
            elif name == "state":
                result = _overview(emu)
            else:
                raise DriverError(f"unknown driver endpoint {name}")
        except (DriverError, TypeError, ValueError, KeyError) as e:
            return web.json_response({"ok": False, "error": f"{type(e).__name__}: {e}"}, status=400)
        except TimeoutError as e:
            return web.json_response({"ok": False, "error": f"timeout: {e}"}, status=408)
        return web.json_response({"ok": True, "result": _jsonable(result)})

    async def events(request: web.Request) -> web.Response:
        """Long poll: events with seq > ``after``, waiting up to ``timeout`` seconds."""
        try:
            after = int(request.query.get("after", "0"))
            timeout = min(60.0, float(request.query.get("timeout", "25")))
        except ValueError as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)

        def fresh() -> list[dict[str, Any]]:
            return [e for e in emu.state.events if e["seq"] > after]

        with contextlib.suppress(TimeoutError):
            await emu.state.wait_until(lambda: bool(fresh()) or emu.state.closing, timeout)
        return web.json_response({"ok": True, "result": fresh()})

    app.router.add_get("/_driver/events", events)
    app.router.add_route("*", "/_driver/{name}", action)


async def _kwargs(request: web.Request) -> dict[str, Any]:
    kwargs: dict[str, Any] = {k: _coerce(v) for k, v in request.query.items()}
    if request.method == "POST" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise DriverError("request body must be a JSON object") from None
        if not isinstance(body, dict):
            raise DriverError("request body must be a JSON object")
        kwargs.update(body)
    return kwargs


def _coerce(value: str) -> Any:
    # Query strings are untyped; ids are the only numbers the reads take.
    if value.lstrip("-").isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value, value)


def _check_signature(fn: Any, kwargs: dict[str, Any]) -> None:
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError as e:
        raise DriverError(f"bad arguments: {e}") from None


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _overview(emu: Emulator) -> dict[str, Any]:
    st = emu.state
    return {
        "bot": asdict(st.bot),
        "now": st.clock.now(),
        "users": [asdict(u) for u in st.users.values() if not u.is_bot],
        "chats": [
            {
                "id": c.id,
                "type": c.type,
                "title": c.title,
                "members": [asdict(m) for m in c.members.values()],
            }
            for c in st.chats.values()
        ],
    }
