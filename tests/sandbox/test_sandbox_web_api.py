"""The sandbox's web API: the real bot behind it, clear 400s for bad input, and it keeps running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from bot.sandbox_mode import EmulatorClock, Options, Sandbox
from sandbox.clock import Clock
from sandbox.web.richtext import to_html


@pytest_asyncio.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(Options(port=0, db=tmp_path / "sandbox.db"))
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base.rstrip("/")

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.base + path) as r:
            return r.status, await r.json()

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.session.post(self.base + path, json=body) as r:
            return r.status, await r.json()


@pytest_asyncio.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, sandbox.url)


async def personas(client: Client) -> dict[str, int]:
    _, state = await client.get("/api/state")
    return {p["name"]: p["id"] for p in state["personas"]}


async def group_of(client: Client, persona: int) -> int:
    _, chats = await client.get(f"/api/chats?persona={persona}")
    group = next(c["id"] for c in chats if c["type"] in ("group", "supergroup"))
    assert isinstance(group, int), group
    return group


async def messages(client: Client, persona: int, chat: int) -> list[dict[str, Any]]:
    status, body = await client.get(f"/api/messages?persona={persona}&chat={chat}")
    assert status == 200, body
    return list(body["messages"])


async def deal_post(client: Client, persona: int, group: int) -> dict[str, Any]:
    shown = await messages(client, persona, group)
    return next(m for m in shown if "Fresh milk" in m["html"] and m["from_bot"] and m["keyboard"])


async def until(predicate: Any, timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (found := await predicate()):
            await asyncio.sleep(0.05)
    return found


async def test_the_demo_is_seeded_through_the_bot(client: Client) -> None:
    people = await personas(client)
    assert set(people) == {"Li Na", "王芳", "Ann Lee", "Bob Brown", "Zhou Min", "陈洁", "Dan Wu"}
    _, state = await client.get("/api/state")
    leaders = [p["leader"] for p in state["personas"]]
    assert leaders == [True, False, False, False, True, False, False]
    assert all(p["started"] for p in state["personas"])
    group = await group_of(client, people["Ann Lee"])
    post = await deal_post(client, people["Ann Lee"], group)
    assert "<b>Milk 1L</b>" in post["html"] and "<b>Yogurt</b>" in post["html"]
    assert post["keyboard"][0][0] == {"text": "+1 Milk 1L", "kind": "callback", "data": "j:1:1"}
    zh = await messages(client, people["王芳"], people["王芳"])
    assert any("楼" in m["html"] for m in zh if m["from_bot"]), "the Chinese resident reads Chinese"


async def test_a_second_compound_shows_the_deal_shapes(client: Client) -> None:
    """Maple Court: tier prices and milk by the case, live, with its own people; its leader
    writes Chinese, so the group reads Chinese."""
    people = await personas(client)
    dan = people["Dan Wu"]
    _, chats = await client.get(f"/api/chats?persona={dan}")
    [group] = [c["id"] for c in chats if c["type"] != "private"]
    _, li_chats = await client.get(f"/api/chats?persona={people['Li Na']}")
    assert group not in [c["id"] for c in li_chats]  # the first compound's people see nothing

    async def post() -> str | None:
        shown = await messages(client, dan, group)
        found = [m["html"] for m in shown if "Weekly dairy" in m["html"] and m["keyboard"]]
        return found[-1] if found and "再3件满一箱" in found[-1] else None

    html = await until(post)
    assert "📉 再买15件：每件¥11.00 · 再3件满一箱" in html  # tier prices, whole cases
    assert "截团时未满箱的部分从最晚的订单砍起。" in html and "满75%按整箱算。" in html


async def test_bad_input_gets_clear_errors_and_the_sandbox_keeps_running(client: Client) -> None:
    people = await personas(client)
    ann, leader = people["Ann Lee"], people["Li Na"]
    group = await group_of(client, ann)
    post = await deal_post(client, ann, group)
    cases: list[tuple[str, Any, str]] = [
        ("/api/chats?persona=999", None, "no persona 999"),
        ("/api/chats?persona=abc", None, "persona must be an id"),
        ("/api/chats?persona=424242", None, "no persona 424242"),  # the bot is no persona
        (f"/api/messages?persona={ann}&chat=12345", None, "no chat 12345"),
        (f"/api/messages?persona={ann}&chat={leader}", None, "someone else's private chat"),
        ("/api/send", {"persona": ann, "chat": group, "text": "x" * 4097}, "too long"),
        ("/api/send", {"persona": ann, "chat": group, "text": "  "}, "empty"),
        ("/api/send", ["not", "an", "object"], "JSON object"),
        ("/api/send", {"persona": 1, "chat": group, "text": "hi"}, "no persona 1"),
        ("/api/press", {"persona": ann, "chat": group, "message": post["id"], "data": "zz:1"}, ""),
        ("/api/press", {"persona": ann, "chat": group, "message": 9999, "data": "j:1:1"}, ""),
        ("/api/press", {"persona": ann, "chat": group, "message": "x", "data": "j"}, "message id"),
        ("/api/pay", {"persona": ann, "chat": group, "message": post["id"]}, "not an invoice"),
        ("/api/advance", {"seconds": -5}, "forward"),
        ("/api/advance", {"seconds": "soon"}, "number"),
        ("/api/personas", {"name": "Zoe", "language": "fr"}, "language"),
        ("/api/personas", {"name": ""}, "name"),
        ("/api/open_link", {"persona": ann, "url": "https://example.com/x"}, "t.me links"),
    ]
    for path, body, error in cases:
        if body is None:
            status, answer = await client.get(path)
        else:
            status, answer = await client.post(path, body)
        assert status == 400, (path, body, answer)
        assert answer["ok"] is False and error in answer["error"], (path, answer)
    async with client.session.post(client.base + "/api/send", data=b"{oops") as r:
        assert r.status == 400 and "JSON" in (await r.json())["error"]
    # Still alive: the bot answers a command.
    status, _ = await client.post("/api/send", {"persona": ann, "chat": ann, "text": "/help"})
    assert status == 200
    await until(lambda: _bot_said(client, ann, "/myorders"))


async def _bot_said(client: Client, persona: int, text: str) -> bool:
    return any(
        m["from_bot"] and text in m["html"] for m in await messages(client, persona, persona)
    )


async def test_press_toast_and_deep_link_for_a_new_resident(client: Client) -> None:
    people = await personas(client)
    ann = people["Ann Lee"]
    group = await group_of(client, ann)
    post = await deal_post(client, ann, group)
    status, pressed = await client.post(
        "/api/press", {"persona": ann, "chat": group, "message": post["id"], "data": "j:1:2"}
    )
    assert status == 200 and pressed["answer"]["text"].startswith("Yogurt × 1")
    assert "open_chat" not in pressed
    status, added = await client.post("/api/personas", {"name": "Chen Jie", "language": "zh-hans"})
    assert status == 200
    chen = added["persona"]["id"]
    assert added["persona"] == {
        "id": chen,
        "name": "Chen Jie",
        "first_name": "Chen",
        "language": "zh-hans",
        "started": False,
    }
    _, chen_chats = await client.get(f"/api/chats?persona={chen}")
    assert group in [c["id"] for c in chen_chats]  # a new neighbour is in every compound
    status, pressed = await client.post(
        "/api/press", {"persona": chen, "chat": group, "message": post["id"], "data": "j:1:1"}
    )
    assert status == 200 and pressed["open_chat"] == chen  # Telegram opens the bot's chat
    first = await until(lambda: _first_bot_message(client, chen))
    assert "楼" in first["html"]  # the building question, in Chinese
    assert [b["text"] for b in first["keyboard"][0]] == ["1", "2", "3"]


async def _first_bot_message(client: Client, persona: int) -> dict[str, Any] | None:
    shown = await messages(client, persona, persona)
    assert not shown or shown[0]["html"].startswith('<span class="cmd">/start</span> j_1_1')
    return next((m for m in shown if m["from_bot"]), None)


async def test_fast_forward_closes_the_deal_and_the_pdf_is_served(client: Client) -> None:
    people = await personas(client)
    leader = people["Li Na"]
    group = await group_of(client, leader)
    await pay_every_invoice(client, people["Bob Brown"])  # the demo leaves Bob's unpaid
    status, moved = await client.post("/api/advance", {"seconds": 2 * 86400})
    assert status == 200
    notice = await until(lambda: _find(client, leader, group, "Pickup notice"))
    assert "Fresh milk" in notice["html"]
    await client.post("/api/send", {"persona": leader, "chat": group, "text": "/list"})
    pdf = await until(lambda: _document(client, leader))
    assert pdf["document"]["mime"] == "application/pdf"
    async with client.session.get(client.base + pdf["document"]["url"]) as r:
        assert r.status == 200 and r.content_type == "application/pdf"
        assert "inline" in r.headers["Content-Disposition"]
        assert (await r.read()).startswith(b"%PDF")
    assert moved["now"] > 0
    async with client.session.get(client.base + "/api/files/nope") as r:
        assert r.status == 404


async def pay_every_invoice(client: Client, persona: int) -> None:
    """Online payments leave an unpaid order to lapse; cash ones have no invoice at all."""
    for m in await messages(client, persona, persona):
        if "invoice" in m:
            body = {"persona": persona, "chat": persona, "message": m["id"]}
            status, paid = await client.post("/api/pay", body)
            assert status == 200 and paid["result"]["status"] == "paid", paid


async def _find(client: Client, persona: int, chat: int, text: str) -> dict[str, Any] | None:
    return next((m for m in await messages(client, persona, chat) if text in m["html"]), None)


async def _document(client: Client, persona: int) -> dict[str, Any] | None:
    shown = await messages(client, persona, persona)
    return next((m for m in shown if m.get("document", {}).get("name", "").endswith(".pdf")), None)


async def test_events_stream(client: Client) -> None:
    people = await personas(client)
    ann = people["Ann Lee"]
    _, state = await client.get("/api/state")
    url = f"{client.base}/api/events?after={state['last_event']}"
    async with client.session.get(url) as stream:
        assert stream.content_type == "text/event-stream"
        await client.post("/api/send", {"persona": ann, "chat": ann, "text": "hello"})
        async with asyncio.timeout(5):
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:") and '"type": "message"' in line:
                    break
        assert str(ann) in line


async def test_the_world_survives_a_restart_and_fresh_wipes_it(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = Sandbox(Options(port=0, db=db))
    await first.start()
    assert first.emu is not None
    now_before = first.emu.clock.now()
    await first.advance(3600)
    await first.stop()
    before = {c: len(m) for c, m in first.emu.state.messages.items()}  # as saved on exit
    second = Sandbox(Options(port=0, db=db))
    await second.start()
    try:
        assert second.restored and second.emu is not None
        assert {c: len(m) for c, m in second.emu.state.messages.items()} == before
        assert second.emu.clock.now() >= now_before + 3600  # the clock kept its advance
        ann = next(u.id for u in second.emu.state.users.values() if u.first_name == "Ann")
        last = max(m.message_id for m in second.emu.messages(ann))
        await second.emu.send_message(ann, ann, "/myorders")
        await second.emu.wait_for_message(
            ann, lambda m: m.from_bot and m.message_id > last and "Fresh milk" in (m.text or "")
        )
    finally:
        await second.stop()
    third = Sandbox(Options(port=0, db=db, fresh=True, empty=True))
    await third.start()
    try:
        assert third.emu is not None and not third.restored
        assert not [u for u in third.emu.state.users.values() if not u.is_bot]
    finally:
        await third.stop()


def test_clock_adapter_follows_the_emulator() -> None:
    clock = Clock()
    bot_clock = EmulatorClock(clock)
    before = bot_clock.now()
    clock.advance(86400)
    assert before.tzinfo is not None
    assert 86400 <= (bot_clock.now() - before).total_seconds() < 86400 + 5


def test_rich_text_is_telegrams_tag_set_only() -> None:
    text = "<script>x</script> bold & link"
    html = to_html(
        text,
        [
            {"type": "bold", "offset": 19, "length": 4},
            {"type": "text_link", "offset": 26, "length": 4, "url": "javascript:alert(1)"},
        ],
    )
    assert html == (
        '&lt;script&gt;x&lt;/script&gt; <b>bold</b> &amp; <span class="link">link</span>'
    )
    assert to_html("🥛 milk", [{"type": "italic", "offset": 3, "length": 4}]) == "🥛 <i>milk</i>"
    nested = to_html(
        "ab",
        [{"type": "code", "offset": 0, "length": 2}, {"type": "pre", "offset": 0, "length": 2}],
    )
    assert nested == "<pre><code>ab</code></pre>"
    link = to_html(
        "go", [{"type": "text_link", "offset": 0, "length": 2, "url": 'https://t.me/"x'}]
    )
    assert link == '<a href="https://t.me/&quot;x" rel="noopener noreferrer">go</a>'


async def test_a_group_admin_makes_it_a_supergroup_and_removes_the_bot(client: Client) -> None:
    people = await personas(client)
    li, ann = people["Li Na"], people["Ann Lee"]
    group = await group_of(client, li)
    status, refused = await client.post(
        "/api/group", {"persona": ann, "chat": group, "action": "upgrade"}
    )
    assert (status, refused["error"]) == (400, "only an admin of the group can do that")

    status, done = await client.post(
        "/api/group", {"persona": li, "chat": group, "action": "upgrade"}
    )
    assert status == 200 and done["chat"] != group
    new = done["chat"]
    _, chats = await client.get(f"/api/chats?persona={li}")
    groups = [
        (c["id"], c["type"], c["admin"], c["bot_in"]) for c in chats if c["type"] != "private"
    ]
    assert groups == [(new, "supergroup", True, True)]  # the old group is gone from the list

    async def told(persona: int, chat: int, text: str) -> bool:
        return any(text in m["html"] for m in await messages(client, persona, chat))

    # The open deal is posted again in the new group, and its leader is told.
    await until(lambda: told(li, new, "Fresh milk"))
    assert (await deal_post(client, li, new))["keyboard"]
    await until(lambda: told(li, li, "became a supergroup"))

    status, _ = await client.post(
        "/api/group", {"persona": li, "chat": new, "action": "remove_bot"}
    )
    assert status == 200
    await until(lambda: told(li, li, "can no longer post"))
    status, again = await client.post(
        "/api/group", {"persona": li, "chat": new, "action": "remove_bot"}
    )
    assert status == 400 and "add_bot (bot out)" in again["error"]
    status, _ = await client.post("/api/group", {"persona": li, "chat": new, "action": "add_bot"})
    assert status == 200
    await until(lambda: told(li, new, "I am back in this group."))
