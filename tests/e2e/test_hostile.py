"""Hostile users of another community, and outsiders, against every button, link and command.

Group A is Olga's compound, with a deal, residents, a payment to confirm and a refund owed.
Mallory leads group B; Eve is in no group at all. The lists of operations come from the code
itself (the callback codec's Op, the command table, the deep links), so a new one cannot be added
without being played here. After each attempt nothing of A has changed, nothing was said in A's
group or to its residents, and nobody outside A was shown A's deal. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from groupbuy.model import PaymentMode
from groupbuy.payments import claim_paid, decide_claim
from groupbuy.slots import SlotPlan, set_slots
from handlers.callbacks import Callback, Op
from handlers.router import COMMANDS, DEEP_LINKS
from sandbox.views import CallbackAnswer
from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    deal_id_of,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL_A = """Title: Lychees
Item: Lychee | kg | 30 | 40 | 5
Deadline: tomorrow 20:00
Pickup: Gate 3 / Shop 7
Window: Sun 8:00-9:00
Delivery: 5 | free from 100"""
DEAL_B = """Title: Durian
Item: Durian | piece | 80 | 10
Deadline: tomorrow 20:00
Pickup: Shop
Window: Sun 10:00-11:00"""
GENERIC = "Sorry, something went wrong on our side. Please try again in a moment."


@dataclass
class Scene:
    world: World
    olga: int
    group_a: int
    ann: int
    bob: int
    deal_a: int
    item_a: int
    order_a: int
    code_a: str
    claim_a: int  # Bob's reported transfer, waiting for Olga
    refund_a: int  # owed to Ann
    mallory: int
    group_b: int
    post_b: int
    deal_b: int
    mallory_msg: int  # a bot message in Mallory's private chat, to press forged buttons on
    eve: int
    eve_msg: int
    point_a: int  # A's pickup point Ann does not collect at (Shop 7, on the map)
    slot_a: int  # a pickup slot of A's deal, with seats

    async def state_of_a(self) -> tuple[Any, ...]:
        """Everything of community A a stranger could try to change."""
        async with self.world.deps.uow() as uow:
            deal = await uow.deals.get(self.deal_a)
            community = await uow.communities.get(self.group_a)
            orders = await uow.orders.for_deal(self.deal_a)
            payments = await uow.payments.for_deal(self.deal_a)
            refunds = await uow.payments.refunds_for_deal(self.deal_a)
            dialogs = [await uow.dialogs.get(who) for who in (self.olga, self.ann, self.bob)]
            points = await uow.points.of_community(self.group_a)
            homes = [await uow.users.resident(self.group_a, who) for who in (self.ann, self.bob)]
            slots = await uow.slots.of_deal(self.deal_a)
        assert deal is not None
        return (
            deal.status,
            deal.open_link,
            [(i.id, i.sold) for i in deal.items],
            community,
            [
                (o.id, o.user_id, o.lines, o.picked_up_at, o.point, o.slot, o.delivery)
                for o in orders
            ],
            slots,
            [(p.id, p.status, p.amount) for p in payments],
            [(r.id, r.status, r.amount) for r in refunds],
            dialogs,
            points,
            homes,
        )

    def heard_in_a(self) -> list[tuple[int, int]]:
        """The messages in A's group and its people's private chats."""
        return [
            (chat, m.message_id)
            for chat in (self.group_a, self.olga, self.ann, self.bob)
            for m in self.world.emu.messages(chat)
        ]

    def strangers_saw_a(self) -> list[str]:
        return [
            m.text or ""
            for chat in (self.mallory, self.group_b, self.eve)
            for m in self.world.emu.messages(chat)
            if "Lychee" in (m.text or "")
        ]


async def _scene(world: World) -> Scene:
    emu = world.emu
    olga, group_a = await set_up_group(world)
    choose = await say(world, olga, group_a, "/paymode", "How do neighbours pay")
    await emu.press_button(olga, group_a, choose.message_id, text="💸 Transfer to the leader")
    await asyncio.sleep(0.2)
    await say(world, olga, group_a, "/points Gate 3 | North gate", "Pickup points")
    await say(world, olga, group_a, "/points Shop 7 | 7 Ring Road | 9-21 | 31.2, 121.4", "Shop 7")
    post_a = await publish_one_message(world, olga, group_a, DEAL_A)
    deal_a = deal_id_of(post_a)
    join = post_a.keyboard[0][0][1]
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group_a, who)
    card = await become_resident(world, ann, group_a, post_a.message_id, join)
    await emu.press_button(ann, ann, card.message_id, text="+1 Lychee")
    await become_resident(world, bob, group_a, post_a.message_id, join)
    deps, now = world.deps, world.clock.now()
    async with deps.uow() as uow:
        deal = await uow.deals.get(deal_a)
        assert deal is not None and deal.payment_mode is PaymentMode.LEADER
        paid = await claim_paid(uow, deal, ann, now)
        await decide_claim(uow, paid.id, True, now, deps.config.pay_reminder_lead)
        claim = await claim_paid(uow, deal, bob, now)
        stretch = (now + timedelta(days=2), now + timedelta(days=2, minutes=30))
        [slot] = await set_slots(uow, deal, SlotPlan((stretch,), 5))
        community = await uow.communities.get(group_a)
        assert community is not None  # A's collection code, which no stranger may be sent
        await uow.communities.save(replace(community, payee="A's WeChat", payee_photo="A-code"))
        await uow.commit()
    answer = await emu.press_button(ann, ann, card.message_id, text="−1")  # a refund is owed
    assert answer.text is not None and "× 1" in answer.text
    async with deps.uow() as uow:
        [refund] = await uow.payments.refunds_for_deal(deal_a)
        order = await uow.orders.of_user(deal_a, ann)
    assert order is not None
    async with deps.uow() as uow:
        [point_a] = [p.id for p in await uow.points.of_community(group_a) if p.name == "Shop 7"]

    mallory, group_b = await set_up_group(
        world, owner_name="Mallory", title="Other compound", name="Other", buildings="1, 2"
    )
    post_b = await publish_one_message(world, mallory, group_b, DEAL_B)
    eve = await emu.add_user("Eve")
    mallory_msg = await say(world, mallory, mallory, "/help")
    eve_msg = await say(world, eve, eve, "/start")
    await asyncio.sleep(0.3)  # let A's own notices go out before the baseline
    return Scene(
        world, olga, group_a, ann, bob, deal_a, int(join.split(":")[2]),
        order.id, order.code, claim.id, refund.id, mallory, group_b, post_b.message_id,
        deal_id_of(post_b), mallory_msg.message_id, eve, eve_msg.message_id, point_a, slot.id,
    )  # fmt: skip


def _forged(s: Scene, op: Op) -> list[str]:
    """Callback data naming community A's objects, as a stranger would craft it: A's deal with
    its own ids, and (where an op names two things) B's deal with A's object."""
    a, b = s.deal_a, s.deal_b
    by_op: dict[Op, list[Callback]] = {
        Op.JOIN: [Callback(op, a, s.item_a)],
        Op.LESS: [Callback(op, a, s.item_a)],
        Op.MINE: [Callback(op, a)],
        Op.CANCEL_ORDER: [Callback(op, a)],
        Op.CLOSE: [Callback(op, a)],
        Op.CONFIRM_CLOSE: [Callback(op, a)],
        Op.CANCEL_DEAL: [Callback(op, a)],
        Op.CONFIRM_CANCEL: [Callback(op, a)],
        Op.BACK: [Callback(op, a)],
        Op.LIST: [Callback(op, a)],
        Op.WORKBOOK: [Callback(op, a)],
        Op.ARRIVED: [Callback(op, a)],
        Op.REMIND_PICKUP: [Callback(op, a)],
        Op.CONFIRM_ARRIVED: [Callback(op, a)],
        Op.PICKED: [Callback(op, a, s.order_a), Callback(op, b, s.order_a)],
        Op.LATER: [Callback(op, a, s.order_a, s.item_a), Callback(op, b, s.order_a, s.item_a)],
        Op.NO_SHOW: [Callback(op, a, s.order_a), Callback(op, b, s.order_a)],
        Op.DECIDE_NO_SHOW: [
            Callback(op, deal, s.order_a, outcome) for deal in (a, b) for outcome in (1, 2, 3)
        ],
        Op.CLAIM_PAID: [Callback(op, a)],
        Op.PAYEE_CODE: [Callback(op, a)],
        Op.CONFIRM_PAYMENT: [Callback(op, a, s.claim_a), Callback(op, b, s.claim_a)],
        Op.REJECT_PAYMENT: [Callback(op, a, s.claim_a), Callback(op, b, s.claim_a)],
        Op.REFUND_MADE: [Callback(op, a, s.refund_a), Callback(op, b, s.refund_a)],
        Op.REMIND_UNPAID: [Callback(op, a)],
        Op.CHOOSE_POINT: [Callback(op, a, s.point_a), Callback(op, b, s.point_a)],
        Op.POINT_MAP: [Callback(op, a, s.point_a), Callback(op, b, s.point_a)],
        Op.REMOVE_POINT: [Callback(op, 0, s.point_a), Callback(op, b, s.point_a)],
        Op.BOOK_SLOT: [Callback(op, a, s.slot_a), Callback(op, b, s.slot_a)],
        Op.DELIVERY: [Callback(op, a, 1), Callback(op, a, 0)],
        Op.SHORTFALL: [Callback(op, a, arg, 1) for arg in range(5)],
        Op.REORDER: [Callback(op, a)],
        Op.WATCH: [Callback(op, a)],
        # These name no deal: they act on the presser's own dialog or language, or on the chat
        # they are pressed in. Played all the same: A must stay untouched.
        Op.BUILDING: [Callback(op, 0, 0)],
        Op.SKIP: [Callback(op)],
        Op.PUBLISH: [Callback(op)],
        Op.DISCARD: [Callback(op)],
        Op.OPEN_LINK: [Callback(op, 0, 1)],
        Op.EDIT: [Callback(op, 0, 0), Callback(op, 0, 999)],
        Op.LANG: [Callback(op, 0, 1)],
        Op.PAY_MODE: [Callback(op, 0, 2)],
        Op.LEADER: [Callback(op, 0, 1)],
    }
    return [cb.pack() for cb in by_op[op]]


NAMES_A = {
    Op.JOIN, Op.LESS, Op.MINE, Op.CANCEL_ORDER, Op.CLOSE, Op.CONFIRM_CLOSE, Op.CANCEL_DEAL,
    Op.CONFIRM_CANCEL, Op.BACK, Op.LIST, Op.PICKED, Op.CLAIM_PAID, Op.CONFIRM_PAYMENT,
    Op.REJECT_PAYMENT, Op.REFUND_MADE, Op.REMIND_UNPAID, Op.PAYEE_CODE, Op.WORKBOOK,
    Op.ARRIVED, Op.CONFIRM_ARRIVED, Op.LATER, Op.REMIND_PICKUP, Op.NO_SHOW, Op.DECIDE_NO_SHOW,
    Op.CHOOSE_POINT, Op.POINT_MAP, Op.REMOVE_POINT, Op.BOOK_SLOT, Op.DELIVERY, Op.SHORTFALL,
    Op.REORDER, Op.WATCH,
}  # fmt: skip


def _refused(answer: CallbackAnswer) -> bool:
    return answer.show_alert and bool(answer.text) and answer.text != GENERIC


async def test_every_button_refuses_strangers(any_world: World) -> None:
    s = await _scene(any_world)
    emu = any_world.emu
    before, heard = await s.state_of_a(), s.heard_in_a()
    # Mallory presses in his own group (on his deal's post) and in private; Eve, in no group,
    # can only press in her private chat.
    places = [
        (s.mallory, s.group_b, s.post_b),
        (s.mallory, s.mallory, s.mallory_msg),
        (s.eve, s.eve, s.eve_msg),
    ]
    for op in Op:
        for data in _forged(s, op):
            for who, chat, message in places:
                answer = await emu.press_raw(who, chat, message, data)
                where = f"{op.name} {data!r} by {who} in {chat}"
                assert answer.text != GENERIC, where
                if op in NAMES_A:
                    assert _refused(answer), f"{where}: {answer}"
    await asyncio.sleep(0.5)  # anything the presses had queued would be out by now
    assert await s.state_of_a() == before
    assert s.heard_in_a() == heard
    assert s.strangers_saw_a() == []


def _command_args(s: Scene) -> dict[str, str]:
    return {
        "start": "",
        "help": "",
        "setup": "",
        "newdeal": "",
        "myorders": "",
        "profile": "",
        "cancel": "",
        "lang": "",
        "list": str(s.deal_a),
        "pickup": str(s.code_a),
        "scan": "",
        "noshows": str(s.deal_a),
        "pickuptime": f"#{s.deal_a} tomorrow 18:00-19:00",
        "pickupplace": f"#{s.deal_a} Gate 9",
        "shortfall": f"1 1 {s.deal_a}",
        "payments": str(s.deal_a),
        "paymode": "",
        "paywindow": "45",
        "payee": "",
        "points": "Shop 7 | Mallory's shed",  # in B (his own) or private: never A's
        "slots": f"#{s.deal_a} tomorrow 18:00-19:00 | 30 | 1",
    }


async def test_every_command_refuses_strangers(any_world: World) -> None:
    s = await _scene(any_world)
    emu = any_world.emu
    args = _command_args(s)
    assert set(args) == set(COMMANDS), "a new command: say here what a stranger would send"
    before, heard = await s.state_of_a(), s.heard_in_a()
    for name in COMMANDS:
        for who, chat in ((s.mallory, s.group_b), (s.mallory, s.mallory), (s.eve, s.eve)):
            await emu.send_message(who, chat, f"/{name} {args[name]}".strip())
    # Everything was handled (and confirmed to Telegram), and what it led to has gone out.
    await emu.wait_until(lambda: not emu.state.updates, timeout=15)
    await asyncio.sleep(1.0)
    assert await s.state_of_a() == before
    assert s.heard_in_a() == heard
    assert s.strangers_saw_a() == []
    replies = [m.text or "" for c in (s.mallory, s.group_b, s.eve) for m in emu.messages(c)]
    assert GENERIC not in replies and not any(r.startswith("Sorry, something") for r in replies)
    # Mallory does lead group B: his /paywindow there is his to make.
    async with any_world.deps.uow() as uow:
        b = await uow.communities.get(s.group_b)
    assert b is not None and b.payment_window_minutes == 45


async def test_every_deep_link_refuses_outsiders(any_world: World) -> None:
    s = await _scene(any_world)
    links = {
        "setup": f"setup_{-s.group_a}",
        "deal": f"deal_{-s.group_a}",
        "payee": f"payee_{-s.group_a}",
        "j": f"j_{s.deal_a}_{s.item_a}",
        "o": f"o_{s.deal_a}",
        "l": f"l_{s.deal_a}",
    }
    assert set(links) == set(DEEP_LINKS), "a new deep link: play it here"
    before, heard = await s.state_of_a(), s.heard_in_a()
    for who in (s.mallory, s.eve):
        for payload in links.values():
            reply = await say(any_world, who, who, f"/start {payload}")
            assert text_of(reply) != GENERIC
            assert "Only" in text_of(reply) or "⚠️" in text_of(reply), text_of(reply)
    await asyncio.sleep(0.5)
    assert await s.state_of_a() == before
    assert s.heard_in_a() == heard
    assert s.strangers_saw_a() == []
    async with any_world.deps.uow() as uow:
        assert await uow.dialogs.get(s.eve) is None  # no profile dialog for A was started
        assert await uow.users.resident(s.group_a, s.eve) is None


async def test_a_member_may_use_the_links_and_a_deal_open_to_anyone_lets_outsiders_in(
    any_world: World,
) -> None:
    s = await _scene(any_world)
    emu = any_world.emu
    # Ann is a member: her order link works in private (Telegram is asked once, then it is known).
    reply = await say(any_world, s.ann, s.ann, f"/start o_{s.deal_a}")
    assert "Lychee" in text_of(reply)
    # A deal its leader opened to anyone with the link: Eve may join through it.
    post = await publish_one_message(
        any_world, s.olga, s.group_a, DEAL_A.replace("Lychees", "Open lychees") + "\nLink: anyone"
    )
    assert "Anyone with the link may join" in text_of(post)
    item = int(post.keyboard[0][0][1].split(":")[2])
    asked = await say(any_world, s.eve, s.eve, f"/start j_{deal_id_of(post)}_{item}")
    assert "building" in text_of(asked).lower()
    # ... but only that deal: the members-only one stays closed to her.
    refused = await say(any_world, s.eve, s.eve, f"/start j_{s.deal_a}_{s.item_a}")
    assert "is not open to you" in text_of(refused)
    assert emu.messages(s.eve)[-1].message_id == refused.message_id


async def test_numbers_nobody_expects_get_a_reason(any_world: World) -> None:
    s = await _scene(any_world)
    emu, olga, group = any_world.emu, s.olga, s.group_a
    for text in ("/list ²", "/list ٣", "/list 99999999999999999999", "/payments 2147483648"):
        reply = await answered_privately(any_world, olga, group, text)
        assert "That is not a deal number." in text_of(reply), (text, text_of(reply))
    # Full-width digits are what a Chinese input method types: read as the number they are.
    reply = await answered_privately(any_world, olga, group, "/list ３")
    assert text_of(reply) == "⚠️ Deal #3 is not one of this group's deals.", text_of(reply)
    for payload in ("o_99999999999999999999", "o_٣", "j_1_99999999999", "l_-1"):
        reply = await say(any_world, olga, olga, f"/start {payload}")
        assert "That is not" in text_of(reply), (payload, text_of(reply))
    usage = await answered_privately(any_world, olga, group, f"/shortfall 1 1 {2**40}")
    assert "That is not a deal number." in text_of(usage)
    post = next(m for m in reversed(emu.messages(group)) if m.from_bot).message_id
    for data in (f"j:{2**31}:1", "j:1:99999999999", "j:١:1", "o:-1:0"):
        answer = await emu.press_raw(olga, group, post, data)
        assert answer.show_alert and answer.text == "This button is out of date.", data


async def test_a_strangers_private_command_asks_telegram_nothing(any_world: World) -> None:
    s = await _scene(any_world)
    emu = any_world.emu

    def admin_lookups() -> int:
        return sum(e.method == "getChatAdministrators" for e in emu.requests_log)

    before = admin_lookups()
    for text in ("/pickup K7P2X", "/newdeal", "/newdeal\nTitle: x"):
        await say(any_world, s.eve, s.eve, text)
    assert admin_lookups() == before
    # A leader in private is found from the bot's own record, confirmed with the (cached) list.
    # (The deal is still open, so the order is found and the hand-out refused for that reason.)
    lookups = admin_lookups()
    reply = await say(any_world, s.olga, s.olga, f"/pickup {s.code_a}")
    assert text_of(reply) == "⚠️ That deal has not closed yet."
    assert admin_lookups() <= lookups + 1
