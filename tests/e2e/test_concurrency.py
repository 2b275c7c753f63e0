"""A rush: 150 neighbours press Join 300 times at once on a deal with 50 units, 2 per person."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

from groupbuy.model import CloseReason, DealStatus, Resident, User
from sandbox.views import CallbackAnswer
from tests.e2e.conftest import (
    World,
    deal_id_of,
    group_in,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

RESIDENTS = 150
PRESSES_EACH = 2
STOCK = 50
LIMIT = 2
DEAL = f"""Title: Spring water
Item: Water | case | 20 | {STOCK} | {LIMIT}
Deadline: tomorrow 20:00
Pickup: Gate 1
Window: Sat 9:00-11:00"""
TOAST = re.compile(r"^Water × ([12]) · total CN¥(\d+)\.00$")
SOLD_OUT = "Sorry, Water is sold out."
OVER_LIMIT = f"You already have the most allowed per person of Water ({LIMIT})."
NOT_OPEN = "This deal is no longer open."
GENERIC = "Sorry, something went wrong on our side. Please try again in a moment."


async def _residents(world: World, group: int, count: int) -> list[int]:
    """Neighbours who started the bot and have a profile, seeded quickly."""
    emu = world.emu
    deps = world.runtime.deps
    assert deps is not None
    users = [await emu.add_user(f"Neighbour{n}", language_code="en") for n in range(count)]
    for uid in users:
        await emu.add_member(group, uid)
    async with deps.uow() as uow:
        for n, uid in enumerate(users):
            await uow.users.seen(User(uid, f"Neighbour{n}", language_code="en", started=True))
            await uow.users.save_resident(
                Resident(group, uid, building=str(1 + n % 2), unit="-", room=str(100 + n))
            )
        await uow.commit()
    # One private message each, so the emulator too knows they have started the bot.
    await asyncio.gather(*(say(world, uid, uid, "/start") for uid in users))
    return users


async def test_three_hundred_presses_at_once(world: World) -> None:
    emu = world.emu
    deps = world.runtime.deps
    assert deps is not None
    olga, group = await set_up_group(world, buildings="1, 2")
    post = await publish_one_message(world, olga, group, DEAL)
    deal_id = deal_id_of(post)
    join = post.keyboard[0][0][1]
    users = await _residents(world, group, RESIDENTS)

    presses = [uid for uid in users for _ in range(PRESSES_EACH)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(emu.press_button(uid, group, post.message_id, data=join, timeout=15) for uid in presses),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} presses failed or went unanswered: {failures[:3]!r}"
    answers: list[CallbackAnswer] = [r for r in results if isinstance(r, CallbackAnswer)]
    assert len(answers) == RESIDENTS * PRESSES_EACH

    toasts = [a for a in answers if not a.show_alert]
    refusals = Counter(a.text for a in answers if a.show_alert)
    assert GENERIC not in refusals, refusals
    assert set(refusals) <= {SOLD_OUT, OVER_LIMIT, NOT_OPEN}, refusals
    assert all(a.url is None for a in answers)
    assert len(toasts) == STOCK, (len(toasts), refusals)
    for toast in toasts:
        match = TOAST.match(toast.text or "")
        assert match, toast.text
        assert int(match.group(2)) == 20 * int(match.group(1))

    # The database agrees: exactly the stock sold, nobody above the limit, closed as sold out.
    async with deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
        orders = await uow.orders.for_deal(deal_id)
    assert deal is not None
    assert deal.status is DealStatus.CLOSED
    assert deal.close_reason is CloseReason.SOLD_OUT
    assert deal.items[0].remaining == 0
    quantities = {o.user_id: sum(line.quantity for line in o.lines) for o in orders}
    assert sum(quantities.values()) == STOCK
    assert max(quantities.values()) <= LIMIT
    buyers = set(quantities)
    # Each buyer's last toast shows their final quantity.
    toasted = Counter(int(group_in(TOAST, text_of(t))) for t in toasts)
    assert toasted[1] == len(buyers)
    assert toasted[2] == sum(1 for q in quantities.values() if q == 2)

    # The post shows the closed, sold-out form.
    def post_text() -> str:
        return next(m.text or "" for m in emu.messages(group) if m.message_id == post.message_id)

    await emu.wait_until(
        lambda: post_text().startswith("✅ CLOSED") and "0 of 50 left" in post_text(), timeout=15
    )
    assert f"{len(buyers)} neighbours joined" in post_text()

    # Pickup notices: exactly once per buyer, none to the others, one in the group.
    def notices(uid: int) -> int:
        return sum("Your order: Spring water" in (m.text or "") for m in emu.messages(uid))

    await emu.wait_until(lambda: all(notices(uid) >= 1 for uid in buyers), timeout=20)
    await asyncio.sleep(1.0)  # time enough for any duplicate to show up
    for uid in users:
        assert notices(uid) == (1 if uid in buyers else 0), uid
        if uid in buyers:
            notice = next(m.text or "" for m in emu.messages(uid) if "Your order" in (m.text or ""))
            assert f"Water × {quantities[uid]} — CN¥{20 * quantities[uid]}.00" in notice
            assert "Pickup code: " in notice
    group_notices = [m for m in emu.messages(group) if "Pickup notice" in (m.text or "")]
    assert len(group_notices) == 1
    assert f"The deal has closed with {len(buyers)} orders." in text_of(group_notices[0])

    bad = [
        (e.method, e.error)
        for e in emu.requests_log
        if not e.ok and "message is not modified" not in (e.error or "")
    ]
    assert not bad, bad
    assert elapsed < 30, f"300 presses took {elapsed:.1f}s"
