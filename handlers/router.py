"""The route table: commands, button operations and dialog states to the functions serving them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from groupbuy import parsing
from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus
from groupbuy.payments import standing
from groupbuy.ports import UnitOfWork
from handlers import (
    bot_standing,
    door_delivery,
    group_moves,
    guide,
    joining,
    language,
    leading,
    ledger,
    newdeal,
    no_shows,
    payee,
    paying,
    pickup_change,
    points,
    profile,
    reorder,
    scanning,
    setup,
    shortfall,
    slots,
)
from handlers.actions import Action, Answer, Send
from handlers.authority import Caller, Intent, as_resident, led_communities, may_lead
from handlers.callbacks import Callback, Op, unpack
from handlers.common import alert, button, link_button, refusal, remember, remembered
from handlers.context import Deps
from handlers.events import (
    BotAdded,
    BotStanding,
    GroupMoved,
    Incoming,
    MessageIn,
    PreCheckout,
    Press,
)
from handlers.routes import Access, Loads, Needs, Route, route_rows

CommandHandler = Callable[[Deps, MessageIn, str], Awaitable[list[Action]]]
ButtonHandler = Callable[[Deps, Press, Callback], Awaitable[list[Action]]]


async def handle(deps: Deps, event: Incoming) -> list[Action]:
    if isinstance(event, BotAdded):
        return await setup.on_bot_added(deps, event)
    if isinstance(event, BotStanding):
        return await bot_standing.on_bot_standing(deps, event)
    if isinstance(event, GroupMoved):
        return await group_moves.on_group_moved(deps, event)
    if isinstance(event, Press):
        return await on_press(deps, event)
    if isinstance(event, PreCheckout):
        return await paying.on_pre_checkout(deps, event)
    if event.payment is not None:
        return await paying.on_successful_payment(deps, event)
    return await on_message(deps, event)


def split_command(text: str, bot_username: str) -> tuple[str, str] | None:
    """'/newdeal@bot rest' → ('newdeal', 'rest'); None if not a command for this bot."""
    if not text.startswith("/"):
        return None
    first_line, _, remainder = text.partition("\n")
    head, _, inline = first_line.partition(" ")
    name, _, target = head[1:].partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    args = "\n".join(part for part in (inline.strip(), remainder.strip()) if part)
    return name.lower(), args


async def on_message(deps: Deps, message: MessageIn) -> list[Action]:
    parsed = split_command(message.text, deps.config.bot_username) if message.text else None
    if parsed is not None:
        name, args = parsed
        handler = COMMANDS.get(name)
        if handler is None:
            if not message.chat.is_private:
                return []  # someone else's command in a busy group: not ours to answer
            user = await remembered(deps, message.sender, private=True)
            return [await guide.help_for(deps, message, user, unknown=name)]  # a typo
        return await _to_sender(deps, message, await handler.serve(deps, message, args))
    if not message.chat.is_private:
        return []  # ordinary group chatter
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=True)
        dialog = await uow.dialogs.get(message.sender.id)
        await uow.commit(mark=False)  # the dialog's answer, below, is the effect
    if dialog is None or dialog[0] == shortfall.STATE:  # a plan waits for a press, not text
        handed_out = await leading.pickup_from_message(deps, message)
        if handed_out is not None:
            return handed_out
        return [await guide.help_for(deps, message, user)]
    state, data = dialog
    text = message.text or None
    if state == profile.STATE:
        return await profile.answer(deps, message.sender, data, text or "")
    if state == setup.STATE:
        return await setup.answer(deps, message.sender, data, text or "")
    if state == paying.PHOTO_STATE:
        return await paying.on_claim_photo(deps, message, data)
    if state == payee.STATE:
        return await payee.answer(deps, message.sender, data, text or "", message.photo_file_id)
    return await newdeal.answer(deps, message.sender, data, text or "", photo=message.photo_file_id)


async def _to_sender(deps: Deps, message: MessageIn, actions: list[Action]) -> list[Action]:
    """A group command's answers meant for its sender alone (`Send.personal`: a refusal,
    /help) go to their private chat when they have started the bot: the group is not told that
    someone may not close a deal. Otherwise, and for an anonymous admin, they stay there."""
    if message.chat.is_private or message.anonymous_admin:
        return actions
    if not any(isinstance(a, Send) and a.personal for a in actions):
        return actions
    async with deps.uow() as uow:
        user = await uow.users.get(message.sender.id)
    if user is None or not user.started:
        return actions
    return [
        replace(a, chat_id=user.id, thread_id=None)
        if isinstance(a, Send) and a.personal and a.chat_id == message.chat.id
        else a
        for a in actions
    ]


async def on_press(deps: Deps, press: Press) -> list[Action]:
    cb = unpack(press.data)
    if cb is None:
        return [
            alert(deps, press.query_id, deps.user_locale(press.sender), DomainError("stale_button"))
        ]
    route = BUTTONS[cb.op]
    if (route.private if press.chat.is_private else route.group) is None:
        # Never shown there (a post's buttons in private, a dialog's in a group): forged.
        locale = deps.user_locale(press.sender)
        return [alert(deps, press.query_id, locale, DomainError("stale_button"))]
    return await route.serve(deps, press, cb)


async def on_dialog_button(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    async with deps.uow() as uow:
        dialog = await uow.dialogs.get(press.sender.id)
    if dialog is None or not press.chat.is_private:
        return [
            alert(deps, press.query_id, deps.user_locale(press.sender), DomainError("stale_button"))
        ]
    state, data = dialog
    person = press.sender
    if state == profile.STATE:
        if cb.op is Op.BUILDING:
            return await profile.on_building(deps, person, data, cb.arg, press.query_id)
        if cb.op is Op.SKIP:
            return await profile.answer(deps, person, data, None, press.query_id)
    elif state == setup.STATE and cb.op is Op.SKIP:
        return await setup.answer(deps, person, data, None, press.query_id)
    elif state == payee.STATE and cb.op is Op.SKIP:
        return await payee.answer(
            deps, person, data, "", None, choice=cb.arg, query_id=press.query_id
        )
    elif state == newdeal.STATE:
        if cb.op is Op.SKIP:
            return await newdeal.answer(
                deps, person, data, None, query_id=press.query_id, choice=cb.arg
            )
        if cb.op is Op.PUBLISH:
            return await newdeal.on_publish(deps, person, data, press.query_id)
        if cb.op is Op.DISCARD:
            return await newdeal.on_discard(deps, person, press.query_id)
        if cb.op is Op.OPEN_LINK:
            return await newdeal.on_open_link(deps, person, data, cb.arg, press.query_id)
        if cb.op is Op.EDIT:
            return await newdeal.on_edit(deps, person, data, cb.arg, press.query_id)
    return [alert(deps, press.query_id, deps.user_locale(person), DomainError("stale_button"))]


async def on_anonymous_reveal(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """An anonymous admin pressed 'continue' (in the group: BUTTONS): now we know who they
    are, and check it."""
    locale = deps.user_locale(press.sender)
    try:
        await may_lead(deps, Caller.of(press), press.chat.id)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if cb.arg == 1:  # under /list: the deal it named
        return await leading.list_for_revealed_admin(deps, press, cb.deal)
    return [Answer(press.query_id, url=deps.deep_link(f"deal_{-press.chat.id}"))]


# --- commands -------------------------------------------------------------------------------


async def cmd_start(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    if not message.chat.is_private:
        return []
    user = await remembered(deps, message.sender, private=True)
    payload = args.strip()
    person = message.sender
    locale = deps.user_locale(user)
    kind, _, rest = payload.partition("_")
    link = DEEP_LINKS.get(kind)
    if link is None:  # no payload, or not one of ours: the welcome
        return [Send(message.chat.id, deps.texts.render(locale, "welcome", user=user))]
    try:
        return await link.serve(deps, message, rest)
    except DomainError as error:  # a mangled, forged or foreign link: the reason, nothing done
        return [refusal(deps, person.id, locale, error)]


async def _setup_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    return await setup.start(deps, message.sender, parsing.group_chat_id(rest))


async def _payee_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    return await payee.start(deps, message.sender, parsing.group_chat_id(rest))


async def _deal_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    return await _newdeal_private(deps, message, parsing.group_chat_id(rest))


async def _join_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    deal_part, _, item_part = rest.partition("_")
    deal_id = parsing.object_id(deal_part, key="deal")
    item_id = parsing.object_id(item_part, key="item")
    joined = await joining.join_from_link(deps, message.sender, deal_id, item_id)
    if isinstance(joined, joining.NoProfile):  # the address first; the join is checked again
        return await profile.start(
            deps, message.sender, joined.community_id, f"j_{deal_id}_{item_id}"
        )
    return joined


async def _order_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    deal_id = parsing.object_id(rest, key="deal")

    async def act(uow: UnitOfWork, deal: Deal) -> list[Action]:
        return [await joining.order_view(deps, uow, message.sender, deal)]

    return await as_resident(deps, Caller.of(message), deal_id, Intent.SEE, act)


async def _list_link(deps: Deps, message: MessageIn, rest: str) -> list[Action]:
    parsing.object_id(rest, key="deal")  # a reason for a mangled number, before anything else
    return await leading.list_command(deps, message, rest)


LinkHandler = Callable[[Deps, MessageIn, str], Awaitable[list[Action]]]
# Every /start payload the bot makes (deep links): each resolves what it names through
# handlers.authority. tests/e2e/test_hostile.py plays an outsider against each of them.
DEEP_LINKS: dict[str, Route[LinkHandler]] = {
    "setup": Route(_setup_link, None, Access(Loads.GROUP_NAMED, Needs.GROUP_LEADER)),
    "deal": Route(_deal_link, None, Access(Loads.GROUP_NAMED, Needs.GROUP_LEADER)),
    "payee": Route(_payee_link, None, Access(Loads.GROUP_NAMED, Needs.GROUP_LEADER)),
    "j": Route(_join_link, None, Access(Loads.DEAL, Needs.RESIDENT_JOIN)),
    "o": Route(_order_link, None, Access(Loads.DEAL, Needs.RESIDENT_SEE)),
    "l": Route(_list_link, None, Access(Loads.DEAL, Needs.LEADER)),
}


async def _newdeal_private(deps: Deps, message: MessageIn, chat_id: int) -> list[Action]:
    async with deps.uow() as uow:
        user = await uow.users.get(message.sender.id)
        community = await uow.communities.get(chat_id)
    locale = deps.user_locale(user or message.sender)
    if community is None:
        return [refusal(deps, message.chat.id, locale, DomainError("community_unknown"))]
    try:
        await may_lead(deps, Caller.of(message), community.chat_id)
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    if not community.configured:
        return [Send(message.chat.id, deps.texts.render(locale, "setup_first"))]
    return await newdeal.start(deps, message.sender, community)


async def cmd_newdeal(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit(mark=False)
        community = None if message.chat.is_private else await uow.communities.get(message.chat.id)
    locale = deps.user_locale(user)
    if message.chat.is_private:
        try:
            led = await led_communities(deps, message.sender)
        except DomainError as error:
            return [refusal(deps, message.chat.id, locale, error)]
        if len(led) != 1:  # none, or several: the group it is for says which
            return [Send(message.chat.id, deps.texts.render(locale, "newdeal_in_group"))]
        if args:
            return await newdeal.one_message(deps, message.sender, led[0], args, message.chat.id)
        return await newdeal.start(deps, message.sender, led[0])
    group_locale = deps.community_locale(community)
    if community is None or not community.configured:
        return [Send(message.chat.id, deps.texts.render(group_locale, "setup_first"))]
    if message.anonymous_admin:
        keyboard = ((button(deps, group_locale, "continue_private", Callback(Op.LEADER)),),)
        return [Send(message.chat.id, deps.texts.render(group_locale, "anonymous_admin"), keyboard)]
    try:
        await may_lead(deps, Caller.of(message), community.chat_id)
    except DomainError as error:
        return [refusal(deps, message.chat.id, group_locale, error)]
    if args:
        return await newdeal.one_message(
            deps, message.sender, community, args, message.chat.id, message.thread_id
        )
    keyboard = ((link_button(deps, group_locale, "continue_private", f"deal_{-message.chat.id}"),),)
    return [Send(message.chat.id, deps.texts.render(group_locale, "newdeal_continue"), keyboard)]


REORDER_BUTTONS = 5  # "Order again" under /myorders, one per closed deal, the newest first


async def cmd_myorders(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit(mark=False)
        found = await uow.orders.active_for_user(user.id, 15)
        communities = {d.community_id: await uow.communities.get(d.community_id) for d, _ in found}
        money = {o.id: await standing(uow, d, o) for d, o in found}
    locale = deps.user_locale(user)
    if not message.chat.is_private and not user.started:
        return [Send(message.chat.id, deps.texts.render(locale, "ask_privately"))]
    entries = [
        {
            "deal": d,
            "order": o,
            "total": o.amount(d),
            "money": money[o.id],
            "tz": getattr(communities[d.community_id], "timezone", "UTC"),
        }
        for d, o in found
    ]
    # Closed deals' orders may be ordered again in one tap (groupbuy.reorder).
    again = [d for d, _ in found if d.status is DealStatus.CLOSED][:REORDER_BUTTONS]
    keyboard = tuple(
        (button(deps, locale, "order_again_named", Callback(Op.REORDER, d.id), title=d.title),)
        for d in again
    )
    # Asked in the group by someone the bot can write to: the answer is theirs, in private.
    return [Send(user.id, deps.texts.render(locale, "my_orders", entries=entries), keyboard)]


async def cmd_profile(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit(mark=False)
        found = await uow.orders.active_for_user(user.id, 1)
    locale = deps.user_locale(user)
    if not message.chat.is_private and not user.started:
        return [Send(message.chat.id, deps.texts.render(locale, "ask_privately"))]
    if not found:  # in private, whether asked there or in the group
        return [Send(user.id, deps.texts.render(locale, "profile_no_community"))]
    return await profile.start(deps, message.sender, found[0][0].community_id, None)


async def cmd_cancel(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.dialogs.clear(user.id)
        await uow.commit()
    text = deps.texts.render(deps.user_locale(user), "dialog_cancelled")
    return [Send(message.chat.id, text, personal=True)]


async def cmd_help(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    return [await guide.help_for(deps, message, user)]


async def cmd_setup(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    if message.chat.is_private:
        return [
            Send(
                message.chat.id,
                deps.texts.render(deps.user_locale(message.sender), "setup_in_group"),
            )
        ]
    return await setup.on_setup_command(deps, message)


async def cmd_lang(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    return await language.command(deps, message)


_SELF = Access(Loads.NOTHING, Needs.SELF)
_OWN = Access(Loads.OWN, Needs.SELF)
_GROUP = Access(Loads.GROUP, Needs.GROUP_LEADER)
_NAMED = Access(Loads.DEAL_NAMED_OR_NEWEST, Needs.LEADER)
_RECORDED = Access(Loads.LED_GROUPS, Needs.RECORDED_LEADER)
# Every command: what it loads and who may use it, in a group and in private (docs/security.md
# prints this table). None: there it only says where to use it.
COMMANDS: dict[str, Route[CommandHandler]] = {
    "start": Route(cmd_start, None, _SELF),
    "help": Route(cmd_help, _SELF, _SELF),
    "setup": Route(cmd_setup, _GROUP, None),
    "newdeal": Route(cmd_newdeal, _GROUP, _RECORDED),
    "myorders": Route(cmd_myorders, None, _OWN),
    "profile": Route(cmd_profile, None, _OWN),
    "cancel": Route(cmd_cancel, _OWN, _OWN),
    "lang": Route(cmd_lang, _SELF, _OWN),  # in a group, the LANG button is the leader's
    "list": Route(leading.list_command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "pickup": Route(leading.pickup_command, _GROUP, _RECORDED),
    "scan": Route(scanning.command, None, _RECORDED),
    "noshows": Route(no_shows.command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "pickuptime": Route(pickup_change.time_command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "pickupplace": Route(pickup_change.place_command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "shortfall": Route(shortfall.command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "payments": Route(ledger.command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
    "paymode": Route(ledger.mode_command, _GROUP, None),
    "paywindow": Route(ledger.window_command, _GROUP, None),
    "payee": Route(payee.command, _GROUP, _RECORDED),
    "points": Route(points.command, _GROUP, _RECORDED),
    "slots": Route(slots.command, _NAMED, Access(Loads.DEAL, Needs.LEADER)),
}

_DIALOG = Access(Loads.OWN, Needs.SELF)
_POST = Access(Loads.DEAL, Needs.LEADER)
# Every button: the callback data's Op, what it loads and who may press it. A button pressed
# where it is never shown is refused like a forged one.
BUTTONS: dict[Op, Route[ButtonHandler]] = {
    Op.JOIN: Route(
        joining.on_change,
        Access(Loads.DEAL, Needs.RESIDENT_JOIN),
        Access(Loads.DEAL, Needs.RESIDENT_JOIN),
    ),
    Op.LESS: Route(
        joining.on_change,
        Access(Loads.DEAL, Needs.RESIDENT_CHANGE),
        Access(Loads.DEAL, Needs.RESIDENT_CHANGE),
    ),
    Op.MINE: Route(
        joining.on_mine,
        Access(Loads.DEAL, Needs.RESIDENT_SEE),
        Access(Loads.DEAL, Needs.RESIDENT_SEE),
    ),
    Op.CANCEL_ORDER: Route(
        joining.on_cancel_order, None, Access(Loads.DEAL, Needs.RESIDENT_CHANGE)
    ),
    Op.CLAIM_PAID: Route(paying.on_claim, None, Access(Loads.DEAL, Needs.RESIDENT_CHANGE)),
    Op.PAYEE_CODE: Route(paying.on_payee_code, None, Access(Loads.DEAL, Needs.RESIDENT_SEE)),
    Op.CLOSE: Route(leading.on_press, _POST, None),
    Op.CONFIRM_CLOSE: Route(leading.on_press, _POST, None),
    Op.CANCEL_DEAL: Route(leading.on_press, _POST, None),
    Op.CONFIRM_CANCEL: Route(leading.on_press, _POST, None),
    Op.BACK: Route(leading.on_press, _POST, None),
    Op.LIST: Route(leading.on_press, _POST, None),
    Op.WORKBOOK: Route(leading.on_press, None, _POST),
    # Under /shortfall's plan, in private or, for a leader the bot cannot write to, the group.
    Op.SHORTFALL: Route(shortfall.on_press, _POST, _POST),
    Op.ARRIVED: Route(leading.on_press, _POST, None),
    Op.CONFIRM_ARRIVED: Route(leading.on_press, _POST, None),
    Op.PICKED: Route(leading.on_press, None, Access(Loads.DEAL_ORDER, Needs.LEADER)),
    # Under /pickup's answer, which stays in the group for a leader the bot cannot write to.
    Op.LATER: Route(
        leading.on_press,
        Access(Loads.DEAL_ORDER, Needs.LEADER),
        Access(Loads.DEAL_ORDER, Needs.LEADER),
    ),
    Op.CONFIRM_PAYMENT: Route(ledger.on_press, None, Access(Loads.DEAL_PAYMENT, Needs.LEADER)),
    Op.REJECT_PAYMENT: Route(ledger.on_press, None, Access(Loads.DEAL_PAYMENT, Needs.LEADER)),
    Op.REFUND_MADE: Route(ledger.on_press, None, Access(Loads.DEAL_REFUND, Needs.LEADER)),
    Op.REMIND_UNPAID: Route(ledger.on_press, None, _POST),
    # Under /noshows' answer, which stays in the group for a leader the bot cannot write to.
    Op.REMIND_PICKUP: Route(no_shows.on_remind, _POST, _POST),
    Op.NO_SHOW: Route(
        no_shows.on_order,
        Access(Loads.DEAL_ORDER, Needs.LEADER),
        Access(Loads.DEAL_ORDER, Needs.LEADER),
    ),
    Op.DECIDE_NO_SHOW: Route(
        no_shows.on_decide,
        Access(Loads.DEAL_ORDER, Needs.LEADER),
        Access(Loads.DEAL_ORDER, Needs.LEADER),
    ),
    Op.CHOOSE_POINT: Route(points.on_choose, None, Access(Loads.DEAL, Needs.RESIDENT_CHANGE)),
    Op.POINT_MAP: Route(points.on_map, None, Access(Loads.DEAL, Needs.RESIDENT_SEE)),
    Op.BOOK_SLOT: Route(slots.on_book, None, Access(Loads.DEAL, Needs.RESIDENT_CHANGE)),
    Op.DELIVERY: Route(door_delivery.on_choose, None, Access(Loads.DEAL, Needs.RESIDENT_CHANGE)),
    # Under a pickup notice, /myorders and the "open again" notice: the deal bought in, seen
    # as their order is; the join itself is checked as a +1 on the new deal's post.
    Op.REORDER: Route(reorder.on_reorder, None, Access(Loads.DEAL, Needs.RESIDENT_SEE)),
    Op.WATCH: Route(reorder.on_watch, None, Access(Loads.DEAL, Needs.RESIDENT_SEE)),
    Op.REMOVE_POINT: Route(points.on_remove, _GROUP, Access(Loads.POINT, Needs.GROUP_LEADER)),
    Op.PAY_MODE: Route(ledger.on_mode, _GROUP, None),
    Op.LANG: Route(language.on_choice, _GROUP, _OWN),
    Op.LEADER: Route(
        on_anonymous_reveal, Access(Loads.DEAL_NAMED_OR_NEWEST, Needs.GROUP_LEADER), None
    ),
    Op.BUILDING: Route(on_dialog_button, None, _DIALOG),
    Op.SKIP: Route(on_dialog_button, None, _DIALOG),
    Op.PUBLISH: Route(on_dialog_button, None, _DIALOG),
    Op.DISCARD: Route(on_dialog_button, None, _DIALOG),
    Op.OPEN_LINK: Route(on_dialog_button, None, _DIALOG),
    Op.EDIT: Route(on_dialog_button, None, _DIALOG),
}


def operations() -> list[str]:
    """docs/security.md's table of operations: every button, command and deep link."""
    return route_rows(
        [
            ("button", {op.name: route for op, route in BUTTONS.items()}),
            ("command", {f"/{name}": route for name, route in COMMANDS.items()}),
            ("link", {f"/start {name}_…": route for name, route in DEEP_LINKS.items()}),
        ]
    )
