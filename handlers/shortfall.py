"""/shortfall: the truck brought less. The leader says what arrived of each item short, the bot
shows who would get what (by join order, or pro rata at a press), and cuts the orders only when
the leader applies the plan (groupbuy.shortfall)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from groupbuy import limits, parsing
from groupbuy.allotment import Allocation, Cut, plan
from groupbuy.errors import DomainError, InputError
from groupbuy.model import Deal, DealStatus
from groupbuy.ports import UnitOfWork
from groupbuy.shortfall import apply_plan, arrived_by_item, check_arrived
from handlers.actions import Action, Answer, Edit, Keyboard, Send
from handlers.authority import Caller, as_leader, as_leader_named
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.paying import window

# The plan shown, until applied: {"deal": id, "arrived": {item id: units}, "token": n}; the
# token is on its buttons, so a plan's buttons apply that plan and no later one.
STATE = "shortfall"
CANCEL, APPLY, APPLY_PRO_RATA, SHOW_PRO_RATA, SHOW_JOIN_ORDER = range(5)  # Op.SHORTFALL's arg
_DEAL = re.compile(r"#\s*([0-9０-９]+)")
_GROUPS = re.compile(r"[,;，；\n]")
SHOWN = 12  # orders listed by name in the plan; the rest are counted


def parse(args: str) -> tuple[list[tuple[str, int]], str]:
    """'1 20, 2 35 #12' or 'Milk 20; Eggs 35': each item (its number or name) and the units of
    it that arrived; and the deal's number ('' for the group's newest). Three bare numbers are
    ITEM UNITS DEAL, as the command has always been typed."""
    deal = ""
    found = _DEAL.search(args)
    if found:
        deal = found.group(1)
        args = args[: found.start()] + args[found.end() :]
    parts = args.split()
    if not deal and len(parts) == 3 and all(parsing.typed_digits(p).isdigit() for p in parts):
        return [(parts[0], _units(parts[1]))], parts[2]
    items: list[tuple[str, int]] = []
    for group in _GROUPS.split(args):
        words = group.split()
        if not words:
            continue
        if len(words) < 2:
            raise InputError("shortfall_format")
        items.append((" ".join(words[:-1]), _units(words[-1])))
    if not items:
        raise InputError("shortfall_format")
    return items, deal


def _units(text: str) -> int:
    digits = parsing.typed_digits(text)
    if not digits.isdigit() or int(digits) > limits.STOCK_MAX:
        raise InputError("shortfall_format")
    return int(digits)


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/shortfall ITEM ARRIVED [, ITEM ARRIVED …] [#DEAL]: the plan, to apply with a press."""
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    try:
        typed, deal_ref = parse(args)
    except DomainError:
        return [Send(chat_id, deps.texts.render(locale, "shortfall_usage"), personal=True)]
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal | None) -> tuple[Deal, list[Cut], int] | None:
        if deal is None:
            return None
        arrived = arrived_by_item(deal, typed)
        check_arrived(deal, arrived)
        cuts = plan(deal, await uow.orders.for_deal(deal.id), arrived, Allocation.JOIN_ORDER)
        token = secrets.randbelow(parsing.ID_MAX) + 1
        data = {"deal": deal.id, "arrived": {str(k): v for k, v in arrived.items()}, "token": token}
        await uow.dialogs.save(message.sender.id, STATE, data, now)
        await uow.commit()
        return deal, cuts, token

    try:
        found = await as_leader_named(deps, Caller.of(message), deal_ref, [DealStatus.CLOSED], act)
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    if found is None:
        return [Send(chat_id, deps.texts.render(locale, "list_none"), personal=True)]
    deal, cuts, token = found
    text, keyboard = await _plan_message(deps, locale, deal, cuts, Allocation.JOIN_ORDER, token)
    return [Send(chat_id, text, keyboard, personal=True)]


async def _plan_message(
    deps: Deps, locale: str, deal: Deal, cuts: list[Cut], how: Allocation, token: int
) -> tuple[str, Keyboard]:
    listed = cuts[:SHOWN]  # by name, the first SHOWN of the whole plan; the rest are counted
    async with deps.uow() as uow:
        users = await uow.users.many([c.order.user_id for c in listed])
    rows = [
        {
            "item": item,
            "units": sum(c.before - c.after for c in mine),
            "listed": [c for c in mine if c in listed],
            "more": sum(1 for c in mine if c not in listed),
        }
        for item in deal.items
        if (mine := [c for c in cuts if c.item.id == item.id])
    ]
    names = {uid: u.display_name for uid, u in users.items()}
    text = deps.texts.render(
        locale, "shortfall_plan", deal=deal, rows=rows, how=how.value, names=names
    )
    apply = APPLY if how is Allocation.JOIN_ORDER else APPLY_PRO_RATA
    other = SHOW_PRO_RATA if how is Allocation.JOIN_ORDER else SHOW_JOIN_ORDER
    keyboard: Keyboard = (
        (button(deps, locale, "shortfall_apply", Callback(Op.SHORTFALL, deal.id, apply, token)),),
        (
            button(
                deps,
                locale,
                "shortfall_pro_rata" if other == SHOW_PRO_RATA else "shortfall_join_order",
                Callback(Op.SHORTFALL, deal.id, other, token),
            ),
            button(
                deps, locale, "shortfall_cancel", Callback(Op.SHORTFALL, deal.id, CANCEL, token)
            ),
        ),
    )
    return text, keyboard


async def on_press(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """Apply the plan shown (by join order or pro rata), show it the other way, or drop it.
    The plan is the presser's own (their dialog), for this deal, or the button is stale."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()
    how = (
        Allocation.PRO_RATA
        if cb.arg in (APPLY_PRO_RATA, SHOW_PRO_RATA)
        else (Allocation.JOIN_ORDER)
    )

    async def act(uow: UnitOfWork, deal: Deal) -> tuple[Deal, list[Cut]] | None:
        dialog = await uow.dialogs.get(press.sender.id)
        data: dict[str, Any] = dialog[1] if dialog and dialog[0] == STATE else {}
        if data.get("deal") != deal.id or data.get("token") != cb.also:
            raise DomainError("stale_button")  # another plan shown since, or none any more
        arrived = {int(k): int(v) for k, v in data["arrived"].items()}
        if cb.arg == CANCEL:
            await uow.dialogs.clear(press.sender.id)
            await uow.commit()
            return None
        if cb.arg in (SHOW_PRO_RATA, SHOW_JOIN_ORDER):
            check_arrived(deal, arrived)
            return deal, plan(deal, await uow.orders.for_deal(deal.id), arrived, how)
        community = await uow.communities.get(deal.community_id)
        cuts = await apply_plan(uow, deal.id, arrived, how, now, window(community))
        await uow.dialogs.clear(press.sender.id)
        await uow.commit()
        return deal, cuts

    try:
        found = await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if found is None:
        text = deps.texts.render(locale, "shortfall_dropped")
        return [Answer(press.query_id), Edit(press.chat.id, press.message_id, text)]
    deal, cuts = found
    if cb.arg in (SHOW_PRO_RATA, SHOW_JOIN_ORDER):
        text, keyboard = await _plan_message(deps, locale, deal, cuts, how, cb.also)
        return [Answer(press.query_id), Edit(press.chat.id, press.message_id, text, keyboard)]
    text = deps.texts.render(
        locale,
        "shortfall_recorded",
        deal=deal,
        units=sum(c.before - c.after for c in cuts),
        orders=len({c.order.id for c in cuts}),
        how=how.value,
    )
    return [Answer(press.query_id), Edit(press.chat.id, press.message_id, text)]
