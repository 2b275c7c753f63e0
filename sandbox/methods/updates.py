"""getUpdates long polling, webhooks (always off) and callback query answers."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Ctx, Params, method
from sandbox.state import DEFAULT_EXCLUDED_UPDATES

CALLBACK_TIMEOUT = 15.0  # seconds of emulator time before a query expires
EXPIRED = "query is too old and response timeout expired or query ID is invalid"


def _wanted(ctx: Ctx, kind: str) -> bool:
    allowed = ctx.state.allowed_updates
    if not allowed:
        return kind not in DEFAULT_EXCLUDED_UPDATES
    return kind in allowed


@method("getUpdates")
async def get_updates(ctx: Ctx, p: Params) -> Any:
    st = ctx.state
    if "allowed_updates" in p:
        # Telegram remembers allowed_updates between calls.
        st.allowed_updates = list(p["allowed_updates"])
    offset = p.get("offset", 0)
    limit = max(1, min(100, p.get("limit", 100)))
    timeout = max(0, min(50, p.get("timeout", 0)))
    if offset > 0:
        # Confirming: everything below offset is gone for good (for the bot).
        st.confirm_below(offset)
    elif offset < 0:
        st.updates = st.updates[offset:]

    def pending() -> list[tuple[int, str, dict[str, Any]]]:
        return [u for u in st.updates if _wanted(ctx, u[1])][:limit]

    if not pending() and timeout > 0:
        try:
            await st.wait_until(lambda: bool(pending()) or st.closing, timeout)
        except TimeoutError:
            return []
    # Unwanted updates are dropped, as Telegram never delivers them later.
    st.updates = [u for u in st.updates if _wanted(ctx, u[1])]
    return [{"update_id": uid, kind: payload} for uid, kind, payload in pending()]


@method("deleteWebhook")
async def delete_webhook(ctx: Ctx, p: Params) -> Any:
    if p.get("drop_pending_updates"):
        ctx.state.updates.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx, p: Params) -> Any:
    return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


@method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx, p: Params) -> Any:
    st = ctx.state
    cb = st.callbacks.get(p["callback_query_id"])
    if cb is None or cb.answer is not None or st.clock.now() - cb.created > CALLBACK_TIMEOUT:
        raise bad_request(EXPIRED)
    text = p.get("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    url = p.get("url")
    if url is not None:
        pattern = rf"https://t\.me/{re.escape(st.bot.username or '')}\?start=[A-Za-z0-9_-]{{0,64}}"
        if not re.fullmatch(pattern, url, flags=re.IGNORECASE):
            raise bad_request("URL_INVALID")
    cb.answer = {
        "text": text,
        "show_alert": bool(p.get("show_alert", False)),
        "url": url,
        "cache_time": p.get("cache_time", 0),
    }
    cb.done.set()
    st.changed({"type": "callback_answer", "callback_query_id": cb.id, **cb.answer})
    return True
