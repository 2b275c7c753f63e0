"""A fan-out of 300 pickup notices through a Bot API on a bad day (issue 22): a 429 on every 20th
call, a 502 on every 30th, three residents who blocked the bot. The bot in a process of its own
against the emulator over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict

from sqlalchemy import select

from bench.harness import bulk_orders, open_deals, seed_people
from handlers.callbacks import Callback, Op
from sandbox.faults import Fault
from storage.tables import OutboxRow
from tests.faults.conftest import Rig

BUYERS = 300
RETRY_AFTER = 2  # seconds, in every injected 429


async def test_a_fan_out_through_429s_502s_and_blocked_residents(rig: Rig) -> None:
    emu, engine = rig.emu, rig.engine
    world = await seed_people(emu, rig.deps, BUYERS)
    (post,) = await open_deals(emu, rig.deps, world, [(10 * BUYERS, None)])
    await bulk_orders(engine, post.deal_id, world.group, world.residents, [post.item_id])
    blocked = set(world.residents[::100])  # three of them
    for uid in blocked:
        await emu.block_bot(uid)
    await rig.start(send_per_second=25)
    await emu.inject_fault("flood", "sendPhoto", every=20, count=None, retry_after=RETRY_AFTER)
    await emu.inject_fault("server_error", "sendPhoto", every=30, count=None)
    log_from = len(emu.state.requests_log)

    close = emu.press(
        world.leader, world.group, post.message_id, Callback(Op.CONFIRM_CLOSE, post.deal_id).pack()
    )
    emu.expect(1)
    emu.push(close)
    assert await emu.answered(30), "the close was not answered"
    reachable = set(world.residents) - blocked

    def notified() -> Counter[int]:
        return Counter(
            uid
            for uid in world.residents
            for m in emu.state.messages.get(uid, [])
            if m.from_id == emu.state.bot.id
        )

    await emu.wait_until(lambda: set(notified()) == reachable, timeout=90)
    await asyncio.sleep(2 * RETRY_AFTER)  # a late retry or duplicate would show now
    counts = notified()
    assert set(counts) == reachable and set(counts.values()) == {1}  # 297, once each

    faults = Counter(f for m, _, f in emu.faults.fired if m == "sendPhoto")
    # Every 20th call a 429, every 30th a 502 (every 60th is a 429: the first injection wins).
    assert faults[Fault.FLOOD] >= BUYERS // 20 and faults[Fault.SERVER_ERROR] >= BUYERS // 60
    attempts: defaultdict[int, list[tuple[float, bool, str]]] = defaultdict(list)
    for entry in emu.state.requests_log[log_from:]:
        if entry.method == "sendPhoto" and entry.params.get("chat_id") in world.residents:
            attempts[entry.params["chat_id"]].append((entry.time, entry.ok, entry.error or ""))
    for uid in blocked:  # told 403 once, never asked again
        # A try may first meet one of the injected 429s or 502s (every 20th and 30th call,
        # whoever it is for): retried, as for anyone, until the 403.
        *earlier, last = [(ok, error) for _, ok, error in attempts[uid]]
        assert last[0] is False and "blocked" in last[1], attempts[uid]
        assert all(not ok and ("Too Many" in e or "Bad Gateway" in e) for ok, e in earlier), (
            attempts[uid]
        )
    for uid, tries in attempts.items():
        # No tight loop: a retry waits what Telegram asked (429) or a backoff of its own (5xx).
        for (before, _, error), (after, _, _) in itertools.pairwise(tries):
            wait = RETRY_AFTER if "Too Many" in error else 0.9
            assert after - before >= wait, (uid, tries)

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(OutboxRow.chat_id, OutboxRow.done, OutboxRow.error, OutboxRow.sent_at).where(
                    OutboxRow.chat_id.in_(world.residents)
                )
            )
        ).all()
    assert all(row.done for row in rows)
    unsent = {row.chat_id: row.error for row in rows if row.sent_at is None}
    assert set(unsent) == blocked  # recorded as blocked, not retried
    assert all("blocked" in (error or "") for error in unsent.values())
