"""The leaders' scanner: a Telegram Mini App page and its one endpoint, served by the bot.

Telegram opens a Mini App only from a public HTTPS address (PUBLIC_URL, behind a TLS proxy:
docs/deploy.md). The page (bot/scan_page.html) asks Telegram's own scanner for a QR code
(`WebApp.showScanQrPopup`) and posts what it read with the page's init data. Nothing in that
request is trusted until the init data's signature, made by Telegram with the bot's token,
is checked (aiogram's `safe_parse_webapp_init_data`) and found less than a day old; the person
it names is then a leader, or not, exactly as in a chat (handlers.scanning).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from handlers import scanning
from handlers.context import Deps
from handlers.events import Person
from messages.i18n import LOCALES

log = logging.getLogger(__name__)

MAX_AGE = timedelta(days=1)  # init data older than this is refused: a page left open, replayed
PATH = "/app/scan"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
PAGE = Path(__file__).with_name("scan_page.html")
TEXTS = ("title", "scan", "hint", "waiting", "not_in_telegram", "failed")  # _mini_app.html.j2
BODY_MAX = 16 * 1024  # init data is ~1 KB, a pass ~40 characters


def address(public_url: str) -> str:
    """The scanner page's address at the bot's public URL ("" without one: no scanner)."""
    return public_url + PATH if public_url else ""


def application(deps: Deps, token: str) -> web.Application:
    app = web.Application(client_max_size=BODY_MAX)
    app.router.add_routes(routes(lambda: deps, token))
    return app


def routes(
    deps_of: Callable[[], Deps], token: str, script: str = TELEGRAM_SCRIPT
) -> list[web.RouteDef]:
    """The page and its endpoint. `deps_of`: the running bot's dependencies, asked at each
    request (the sandbox mounts these before its bot has started). `script`: Telegram's
    telegram-web-app.js, or the sandbox's stand-in for it (sandbox/web/static)."""
    page = PAGE.read_text(encoding="utf-8").replace("__SCRIPT__", script)
    headers = _headers(script)

    async def scan_page(request: web.Request) -> web.Response:
        deps = deps_of()
        locale = _locale(deps, request.query.get("lang"))
        texts = {name: deps.texts.macro(locale, "mini_app", name) for name in TEXTS}
        html = page.replace("__LANG__", "zh-Hans" if locale == "zh_Hans" else "en").replace(
            "__TEXTS__", _for_script(texts)
        )
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def verify(request: web.Request) -> web.Response:
        deps = deps_of()
        locale = _locale(deps, request.query.get("lang"))
        if (request.content_length or 0) > BODY_MAX:
            return _refused(deps, locale, "init_data_invalid", 413)
        try:
            body = await request.json()
            init_data, text = str(body["init_data"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return _refused(deps, locale, "init_data_invalid", 400)
        try:
            signed = safe_parse_webapp_init_data(token, init_data)
        except ValueError:  # forged, altered, or not init data at all
            return _refused(deps, locale, "init_data_invalid", 403)
        user = signed.user
        if user is None:
            return _refused(deps, locale, "init_data_invalid", 403)
        person = Person(user.id, user.first_name, user.last_name, user.username, user.language_code)
        if deps.clock.now() - signed.auth_date > MAX_AGE:
            return _refused(deps, locale, "init_data_stale", 403)
        answer = await scanning.scanned(deps, person, text[:200])
        return web.json_response({"ok": True, "html": answer})

    return [web.get(PATH, scan_page), web.post("/app/verify", verify)]


def _headers(script: str) -> dict[str, str]:
    """The page runs inside Telegram's web view: it loads Telegram's script (from telegram.org,
    or the sandbox's own) and talks to us only."""
    origin = urlsplit(script)
    source = f"{origin.scheme}://{origin.netloc}" if origin.netloc else ""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self' 'unsafe-inline' {source}".rstrip()
            + "; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }


def _locale(deps: Deps, asked: str | None) -> str:
    return asked if asked in LOCALES else deps.config.default_locale


def _refused(deps: Deps, locale: str, key: str, status: int) -> web.Response:
    text = deps.texts.macro(locale, "errors", key)
    return web.json_response({"ok": False, "error": text}, status=status)


def _for_script(value: Any) -> str:
    """JSON safe inside a <script> element: no "</script>" or "<!--" can end it early."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
