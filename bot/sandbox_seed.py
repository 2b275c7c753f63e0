"""The sandbox's demo compounds, made through the real conversation (no database writes).

A leader adds the bot to "Sunny Garden 阳光花园", sets it up in private chat, chooses online
payments, publishes a deal with two items, and three residents (one writing Chinese) join it
through the deep link, giving building, unit and room the way any neighbour does; two of them
pay their invoices. A second compound, "Maple Court 枫林苑", paid to the leader, has a deal with
tier prices and milk by the case, two neighbours in it (seed_shapes).
"""

from __future__ import annotations

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from sandbox.emulator import Emulator
from sandbox.views import SentMessage

log = logging.getLogger(__name__)
GROUP_TITLE = "Sunny Garden 阳光花园"
DEAL = """/newdeal
Title: Fresh milk 鲜牛奶
Description: Bright Farm, 1 L bottles, delivered on Saturday morning
Item: Milk 1L | bottle | 12.50 | 100 | 4
Item: Yogurt | cup | 5 | 60
Deadline: tomorrow 20:00
Minimum: 2 people
Pickup: Property office, gate 2
Window: Sat 9:00-11:00"""


@dataclass(frozen=True)
class Resident:
    first_name: str
    last_name: str | None
    language: str
    building: str
    unit: str
    room: str
    item: int  # which of the post's +1 buttons they press first
    pays: bool  # pays the invoice at once (online payments); the others show the Pay button


RESIDENTS = (
    Resident("王芳", None, "zh-hans", "1", "2", "502", 0, True),
    Resident("Ann", "Lee", "en", "2", "1", "1201", 0, True),
    Resident("Bob", "Brown", "en", "3", "1", "302", 1, False),
)
SHAPES_TITLE = "Maple Court 枫林苑"
# Tier prices (阶梯价) and whole cases (整箱) in one deal: docs/guide/shapes/.
SHAPES_DEAL = """/newdeal
Title: Weekly dairy 每周乳品
Description: The more we buy, the cheaper it gets; milk comes by the case of 12
Item: Milk 1L | bottle | 12.50; 11 from 24; 10 from 48 | 8 cases of 12 | 12
Item: Yogurt | cup | 5 | 60
Deadline: tomorrow 20:00
Pickup: Gate 1 lobby
Window: Sun 9:00-11:00
Cases: round down | 75%"""
SHAPE_RESIDENTS = (
    Resident("陈洁", None, "zh-hans", "1", "1", "301", 0, False),
    Resident("Dan", "Wu", "en", "2", "2", "802", 0, False),
)


class _Player:
    def __init__(self, emu: Emulator, timeout: float = 15.0) -> None:
        self.emu = emu
        self.timeout = timeout

    def last_id(self, chat: int) -> int:
        return max((m.message_id for m in self.emu.messages(chat)), default=0)

    async def reply(self, chat: int, after: int, contains: str | None = None) -> SentMessage:
        return await self.emu.wait_for_message(
            chat,
            lambda m: (
                m.from_bot and m.message_id > after and (contains is None or contains in m.text)
                if m.text is not None
                else False
            ),
            self.timeout,
        )

    async def say(
        self, user: int, chat: int, text: str, contains: str | None = None
    ) -> SentMessage:
        after = self.last_id(chat)
        await self.emu.send_message(user, chat, text)
        return await self.reply(chat, after, contains)

    async def press(self, user: int, chat: int, message: SentMessage, data: str) -> SentMessage:
        after = self.last_id(chat)
        await self.emu.press_button(user, chat, message.message_id, data=data)
        return await self.reply(chat, after)


async def _pay_mode(emu: Emulator, p: _Player, leader: int, group: int, *labels: str) -> bool:
    """/paymode → the button whose label has one of `labels` ("Online": the demo shows
    invoices, the sandbox being the test provider; "Transfer": paid to the leader, as tier
    prices need; in the group's language).

    Best effort: a bot without that command or button keeps its default payment mode."""
    after = p.last_id(group)
    await emu.send_message(leader, group, "/paymode")
    try:
        choose = await _Player(emu, timeout=5.0).reply(group, after)
    except TimeoutError:
        log.warning("the bot did not answer /paymode; the demo keeps its default payment mode")
        return False
    found = [
        data for row in choose.keyboard for text, data in row if any(w in text for w in labels)
    ]
    if not found:
        return False
    answer = await emu.press_button(leader, group, choose.message_id, data=found[0])
    return not answer.show_alert


def start_payload(url: str) -> str:
    return parse_qs(urlparse(url).query)["start"][0]


async def _set_up(emu: Emulator, p: _Player, leader: int, group: int, name: str) -> None:
    """The leader adds the bot and answers its four set-up questions in private chat."""
    await emu.add_bot_to_group(group, leader)
    greeting = await p.reply(group, 0)
    setup_url = greeting.keyboard[0][0][1]
    await p.say(leader, leader, f"/start {start_payload(setup_url)}")
    await p.say(leader, leader, name)
    await p.say(leader, leader, "1, 2, 3")
    await p.say(leader, leader, "CNY")
    after = p.last_id(group)
    await emu.send_message(leader, leader, "Asia/Shanghai")
    await p.reply(group, after)  # "… is ready for group buys"


async def _join(
    emu: Emulator, p: _Player, group: int, post: SentMessage, uid: int, r: Resident
) -> SentMessage:
    """A resident joins through the post's +1, giving building, unit and room; their card."""
    plus = [data for row in post.keyboard for label, data in row if label.startswith("+1")]
    answer = await emu.press_button(uid, group, post.message_id, data=plus[r.item])
    assert answer.url is not None, answer
    building_q = await p.say(uid, uid, f"/start {start_payload(answer.url)}")
    chosen = next(data for row in building_q.keyboard for label, data in row if label == r.building)
    await p.press(uid, uid, building_q, chosen)
    await p.say(uid, uid, r.unit)
    phone_q = await p.say(uid, uid, r.room)
    after = p.last_id(uid)
    await emu.press_button(uid, uid, phone_q.message_id, data=phone_q.keyboard[0][0][1])
    return await p.reply(uid, after, "🧾")


async def seed_demo(emu: Emulator) -> None:
    p = _Player(emu)
    leader = await emu.add_user("Li", last_name="Na", username="lina", language_code="en")
    residents = [
        await emu.add_user(r.first_name, last_name=r.last_name, language_code=r.language)
        for r in RESIDENTS
    ]
    # A basic group, as most compound groups start: the sandbox page can make it a supergroup.
    group = await emu.create_group(GROUP_TITLE, owner=leader, members=residents, basic=True)
    await _set_up(emu, p, leader, group, "Sunny Garden")
    online = await _pay_mode(emu, p, leader, group, "Online")

    # A deal in one message, then each resident joins through the post's button.
    post = await p.say(leader, group, DEAL, "Fresh milk")
    for uid, r in zip(residents, RESIDENTS, strict=True):
        await _join(emu, p, group, post, uid, r)
        if online and r.pays:
            invoice = await emu.wait_for_message(uid, lambda m: m.invoice is not None, 10.0)
            paid = await emu.pay_invoice(uid, uid, invoice.message_id)
            assert paid.ok, paid
    await seed_shapes(emu, p)


async def seed_shapes(emu: Emulator, p: _Player) -> None:
    """A second compound, with a leader and two neighbours of its own (the first compound's
    people see nothing of it), whose deal shows the deal shapes live: tier prices and milk by
    the case (docs/guide/shapes/). Paid to the leader, as tier prices are."""
    leader = await emu.add_user("Zhou", last_name="Min", language_code="zh-hans")
    residents = [
        await emu.add_user(r.first_name, last_name=r.last_name, language_code=r.language)
        for r in SHAPE_RESIDENTS
    ]
    group = await emu.create_group(SHAPES_TITLE, owner=leader, members=residents)
    await _set_up(emu, p, leader, group, "Maple Court")
    if not await _pay_mode(emu, p, leader, group, "Transfer", "转账"):
        return  # without pay-the-leader mode, tier prices are refused: no shapes to show
    post = await p.say(leader, group, SHAPES_DEAL, "Weekly dairy")
    for uid, r, more in zip(residents, SHAPE_RESIDENTS, (5, 2), strict=True):
        card = await _join(emu, p, group, post, uid, r)
        plus = next(data for row in card.keyboard for label, data in row if "Milk" in label)
        for _ in range(more):  # six and three bottles: nine, three short of a full case
            await emu.press_button(uid, uid, card.message_id, data=plus)
