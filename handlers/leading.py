"""What only leaders may do: close now, cancel, pickup lists, marking orders picked up.

Every deal, order and group here comes from handlers.authority, which checks it belongs to what
the button or command names and that the caller leads that group; never from the button alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from groupbuy import pickup_pass
from groupbuy.arrival import announce_arrival, waiting
from groupbuy.codes import codes_in, normalize_code
from groupbuy.deals import cancel_deal, close_deal
from groupbuy.errors import DomainError
from groupbuy.model import (
    Arrival,
    CloseReason,
    Community,
    Deal,
    DealStatus,
    PickupPoint,
    User,
    minimum_reached,
)
from groupbuy.orders import Pickup, hold_back, mark_picked_up
from groupbuy.ports import UnitOfWork
from handlers import guide
from handlers.actions import Action, Answer, Edit, Keyboard, Send
from handlers.authority import (
    Caller,
    as_group_leader,
    as_leader,
    as_leader_of_group,
    leader_deal,
    leader_named,
    led_communities,
    order_of,
)
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, refusal, remembered
from handlers.context import Deps
from handlers.deal_post import confirm_keyboard
from handlers.events import MessageIn, Press
from handlers.my_order import points_of
from handlers.pickup_list import documents, workbook
from messages import formatting


async def on_press(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """The leader's buttons. Each acts in the unit of work that read the deal and checked the
    presser leads its group (handlers.authority.as_leader)."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> list[Action]:
        if cb.op is Op.PICKED:
            return await _picked(deps, uow, press, deal, cb.arg, locale)
        if cb.op is Op.LATER:
            return await _later(deps, uow, press, deal, cb, locale)
        if cb.op in (Op.ARRIVED, Op.CONFIRM_ARRIVED) or (cb.op is Op.BACK and cb.arg == ARRIVAL):
            return await _arrival(deps, uow, press, deal, cb, locale)
        if deal.status is not DealStatus.OPEN:
            raise DomainError("deal_not_open")
        community = await uow.communities.get(deal.community_id)
        group_locale = deps.community_locale(community)
        if cb.op in (Op.CLOSE, Op.CANCEL_DEAL):
            # Asked first: a slip of the thumb must not end a deal. The question is its own
            # message, not the post's buttons: the post refresher rebuilds those whenever
            # counters change, which would drop a pending confirmation.
            closing = cb.op is Op.CLOSE
            stats = await uow.deals.stats(deal.id)
            question = deps.texts.render(
                group_locale,
                "close_confirm" if closing else "cancel_confirm",
                deal=deal,
                forms=minimum_reached(deal, stats),
            )
            confirm = Op.CONFIRM_CLOSE if closing else Op.CONFIRM_CANCEL
            keyboard = confirm_keyboard(deps, group_locale, deal, confirm)
            return [Answer(press.query_id), Send(press.chat.id, question, keyboard)]
        if cb.op is Op.CONFIRM_CLOSE:
            closed = await close_deal(uow, deal.id, CloseReason.LEADER, now)
            await uow.commit()
            key = "closed_toast" if closed else "deal_not_open"
            done = deps.texts.render(group_locale, "close_done", deal=deal)
            return [
                Answer(press.query_id, deps.texts.macro(locale, "labels", key)),
                Edit(press.chat.id, press.message_id, done),
            ]
        if cb.op is Op.BACK:
            kept = deps.texts.render(group_locale, "cancel_kept", deal=deal)
            return [Answer(press.query_id), Edit(press.chat.id, press.message_id, kept)]
        await cancel_deal(uow, deal.id, now)  # CONFIRM_CANCEL
        await uow.commit()
        done = deps.texts.render(group_locale, "cancel_done", deal=deal)
        return [
            Answer(press.query_id, deps.texts.macro(locale, "labels", "cancelled_toast")),
            Edit(press.chat.id, press.message_id, done),
        ]

    try:
        if cb.op is Op.LIST:  # only reads: its documents are built outside any unit of work
            listed = await leader_deal(deps, Caller.of(press), cb.deal)
            return await _send_list(deps, press, listed, locale)
        if cb.op is Op.WORKBOOK:  # under the list's PDF, in the leader's private chat
            listed = await leader_deal(deps, Caller.of(press), cb.deal)
            toast = deps.texts.macro(locale, "labels", "workbook_toast")
            return [
                Answer(press.query_id, toast),
                *await workbook(deps, listed, press.chat.id, locale),
            ]
        return await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]


ARRIVAL = 1  # Op.BACK's argument under the arrival's question


async def _arrival(
    deps: Deps, uow: UnitOfWork, press: Press, deal: Deal, cb: Callback, locale: str
) -> list[Action]:
    """ "Goods arrived" asks first (a slip of the thumb must not message a hundred buyers), then
    tells each buyer still to pick up, once (groupbuy.arrival). A deal with pickup points
    asks which point the goods reached: each point is said on its own, to its buyers."""
    community = await uow.communities.get(deal.community_id)
    group_locale = deps.community_locale(community)
    if cb.op is Op.BACK:
        kept = deps.texts.render(group_locale, "arrival_kept")
        return [Answer(press.query_id), Edit(press.chat.id, press.message_id, kept)]
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    points = await points_of(uow, deal)
    if cb.op is Op.ARRIVED:
        return await _arrival_question(deps, uow, press, deal, points, community, locale)
    announced = await announce_arrival(uow, deal, deps.clock.now(), press.sender.id, cb.arg)
    await uow.commit()
    if not announced.first:
        return [await _arrived_before(deps, uow, press, announced.arrival, community, locale)]
    point = next((p.name for p in points if p.id == cb.arg), "")
    done = deps.texts.render(
        group_locale, "arrival_done", deal=deal, count=announced.told, point=point
    )
    return [
        Answer(press.query_id, deps.texts.macro(locale, "labels", "arrived_toast")),
        Edit(press.chat.id, press.message_id, done),
    ]


async def _arrival_question(
    deps: Deps,
    uow: UnitOfWork,
    press: Press,
    deal: Deal,
    points: list[PickupPoint],
    community: Community | None,
    locale: str,
) -> list[Action]:
    """Whom "goods arrived" would tell: the deal's buyers still to pick up, or, for a deal
    with pickup points, those of each point not yet said (a button each)."""
    group_locale = deps.community_locale(community)
    back = button(deps, group_locale, "not_yet", Callback(Op.BACK, deal.id, ARRIVAL))
    if not points:
        earlier = await uow.deals.arrival(deal.id, 0)
        if earlier is not None:
            return [await _arrived_before(deps, uow, press, earlier, community, locale)]
        count = len(await waiting(uow, deal, collected=True))
        question = deps.texts.render(
            group_locale, "arrival_confirm", deal=deal, count=count, points=[]
        )
        confirm = Callback(Op.CONFIRM_ARRIVED, deal.id)
        keyboard = ((button(deps, group_locale, "confirm_arrived", confirm), back),)
        return [Answer(press.query_id), Send(press.chat.id, question, keyboard)]
    left, said = [], []
    for point in points:
        earlier = await uow.deals.arrival(deal.id, point.id)
        if earlier is None:
            left.append((point, len(await waiting(uow, deal, point.id, collected=True))))
        else:
            said.append(earlier)
    if not left:  # every point was said: when the last one was
        last = max(said, key=lambda a: a.at)
        return [await _arrived_before(deps, uow, press, last, community, locale)]
    question = deps.texts.render(
        group_locale,
        "arrival_confirm",
        deal=deal,
        count=sum(n for _, n in left),
        points=[{"name": p.name, "count": n} for p, n in left],
    )
    rows = tuple(
        (
            button(
                deps,
                group_locale,
                "confirm_arrived_at",
                Callback(Op.CONFIRM_ARRIVED, deal.id, p.id),
                name=p.name,
                count=n,
            ),
        )
        for p, n in left
    )
    return [Answer(press.query_id), Send(press.chat.id, question, (*rows, (back,)))]


async def _arrived_before(
    deps: Deps,
    uow: UnitOfWork,
    press: Press,
    arrival: Arrival,
    community: Community | None,
    locale: str,
) -> Answer:
    leader = await uow.users.get(arrival.by)
    at = formatting.when(arrival.at, community.timezone if community else "UTC", locale)
    name = leader.display_name if leader else str(arrival.by)
    text = deps.texts.macro(locale, "labels", "already_arrived_toast", at=at, leader=name)
    return Answer(press.query_id, text, alert=True)


async def list_for_revealed_admin(deps: Deps, press: Press, deal_id: int) -> list[Action]:
    """An anonymous admin pressed 'continue' under /list: the list of the deal they named
    (`deal_id`, checked again now that we know who they are), or of the newest closed deal."""
    locale = deps.user_locale(press.sender)
    try:
        if deal_id:
            deal: Deal | None = await leader_deal(deps, Caller.of(press), deal_id)
        else:
            async with deps.uow() as uow:
                found = await uow.deals.for_community(press.chat.id, [DealStatus.CLOSED], 1)
            deal = found[0] if found else None
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if deal is None or deal.status is not DealStatus.CLOSED:
        return [alert(deps, press.query_id, locale, DomainError("deal_not_closed"))]
    return await _send_list(deps, press, deal, locale)


async def _send_list(deps: Deps, press: Press, deal: Deal, locale: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await uow.users.get(press.sender.id)
    if user is None or not user.started:
        return [Answer(press.query_id, url=deps.deep_link(f"l_{deal.id}"))]
    docs = await documents(deps, deal, press.sender.id, locale)
    return [Answer(press.query_id, deps.texts.macro(locale, "labels", "sent_privately")), *docs]


async def _picked(
    deps: Deps, uow: UnitOfWork, press: Press, deal: Deal, order_id: int, locale: str
) -> list[Action]:
    order = await order_of(uow, deal, order_id)
    pickup = await mark_picked_up(
        uow, deal.community_id, order.code, deps.clock.now(), by=press.sender.id
    )
    await uow.commit()
    collected = (
        formatting.money(pickup.collected, deal.currency, locale) if pickup.collected else ""
    )
    text = deps.texts.macro(
        locale, "labels", "picked_toast", code=pickup.order.code, collected=collected
    )
    return [Answer(press.query_id, text)]


async def _later(
    deps: Deps, uow: UnitOfWork, press: Press, deal: Deal, cb: Callback, locale: str
) -> list[Action]:
    """A line of an order just handed out is held back: the message says so, line by line."""
    order = await order_of(uow, deal, cb.arg)
    pickup = await hold_back(uow, deal, order, cb.also, deps.clock.now())
    await uow.commit()
    owner = await uow.users.get(order.user_id)
    text, keyboard = handed_out(deps, locale, pickup, owner)
    item = next(i for i in deal.items if i.id == cb.also)
    toast = deps.texts.macro(locale, "labels", "later_toast", item=item)
    return [Answer(press.query_id, toast), Edit(press.chat.id, press.message_id, text, keyboard)]


async def list_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/list [deal id]: the newest closed deal of the group, sent to the leader privately."""
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    if message.chat.is_private and not args.strip():
        return [await guide.which_deal(deps, message, user, "list")]
    try:
        deal = await leader_named(deps, Caller.of(message), args, [DealStatus.CLOSED])
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    if deal is None or deal.status is not DealStatus.CLOSED:
        return [Send(chat_id, deps.texts.render(locale, "list_none"), personal=True)]
    if message.anonymous_admin:  # the list goes to a person: ask who, with a button
        # The button names the deal: '/list 12' must give #12's list, not the newest one's.
        reveal = Callback(Op.LEADER, deal.id, 1)
        keyboard = ((button(deps, locale, "continue_private", reveal),),)
        return [Send(chat_id, deps.texts.render(locale, "anonymous_admin"), keyboard)]
    if not user.started:
        return [Send(chat_id, deps.texts.render(locale, "start_bot_first"))]
    return await documents(deps, deal, user.id, locale)  # in private: nothing in the group


Picked = tuple[Pickup, dict[int, User]]  # the order handed out, and its owner


async def pickup_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/pickup CODE in the group (or in private, for the groups one leads): mark it handed out.
    A pickup pass (the QR code's text: groupbuy.pickup_pass) names its community itself, and
    is refused, changing nothing, unless the bot signed it."""
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    caller = Caller.of(message)
    signed = pickup_pass.find(args)
    try:
        ticket = pickup_pass.read(deps.config.pass_key, signed) if signed else None
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    code = ticket.code if ticket else normalize_code(args)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, cid: int) -> Picked:
        if code is None:
            raise DomainError("code_invalid")
        if ticket is not None and ticket.community_id != cid:
            raise DomainError("pass_elsewhere")  # another group's order, shown at this table
        pickup = await mark_picked_up(uow, cid, code, now, by=user.id)
        await uow.commit()
        return pickup, await uow.users.many([pickup.order.user_id])

    try:
        if not message.chat.is_private:
            # Marked in the unit of work that checked the leader of this group.
            async def in_group(uow: UnitOfWork, community: Community) -> Picked:
                return await act(uow, community.chat_id)

            pickup, users = await as_leader_of_group(deps, caller, in_group)
        elif ticket is not None:
            pickup, users = await _pickup_by_pass(deps, caller, ticket.community_id, act)
        else:
            pickup, users = await _pickup_in_private(deps, caller, act)
    except _NoGroup:
        return [Send(chat_id, deps.texts.render(locale, "pickup_in_group"))]
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    owner = users.get(pickup.order.user_id)
    text, keyboard = handed_out(deps, locale, pickup, owner)
    # The leader's, at the table: not a message per box to the group.
    return [Send(chat_id, text, keyboard, personal=True)]


def handed_out(deps: Deps, locale: str, pickup: Pickup, owner: User | None) -> tuple[str, Keyboard]:
    """What was handed out, what to collect, and (for an order of several lines) a button per
    line to hold it back for later: a partial pickup, recorded line by line."""
    deal, order = pickup.deal, pickup.order
    items = [item for item in deal.items if order.quantity(item.id) > 0]
    lines = [
        {"item": i, "quantity": order.quantity(i.id), "later": i.id in pickup.held_back}
        for i in items
    ]
    rest = [{"item": i, "quantity": pickup.rest[i.id]} for i in items if i.id in pickup.rest]
    text = deps.texts.render(
        locale,
        "picked_up",
        deal=deal,
        order=order,
        lines=lines,
        rest=rest,
        name=owner.display_name if owner else "",
        collected=pickup.collected,
    )
    given = [i for i in items if i.id not in pickup.held_back]
    if pickup.rest or len(given) < 2:
        return text, ()
    return text, tuple(
        (button(deps, locale, "later", Callback(Op.LATER, deal.id, order.id, i.id), item=i),)
        for i in given
    )


async def pickup_from_message(deps: Deps, message: MessageIn) -> list[Action] | None:
    """A leader's private message that is a pickup code alone, a pickup pass (what a scanner
    read from the QR code), or a resident's message with a code in it forwarded to the bot
    (their pickup notice, or "my code is K7P2X"): the same as /pickup CODE. None for anything
    else, and for anyone who leads no group: their words go on to the help, as before (a
    resident typing their own code is not refused as a non-leader). Only a code-shaped text is
    looked up at all, and then only in the bot's own records (`led_communities`): a stranger
    costs no Telegram call."""
    code = normalize_code(message.text) or pickup_pass.find(message.text)
    found = [code] if code is not None else codes_in(message.text) if message.forwarded else []
    if not found:
        return None
    try:
        if not await led_communities(deps, message.sender):
            return None
    except DomainError:
        pass  # a group whose admins Telegram could not list now: /pickup says so
    if len(found) > 1:  # whose? the leader says which
        user = await remembered(deps, message.sender, private=True)
        text = deps.texts.render(deps.user_locale(user), "pickup_which", codes=found)
        return [Send(message.chat.id, text)]
    return await pickup_command(deps, message, found[0])


class _NoGroup(Exception):
    """/pickup in private by someone who leads no set-up group."""


async def _pickup_in_private(
    deps: Deps,
    caller: Caller,
    act: Callable[..., Awaitable[Picked]],
) -> Picked:
    """In private the code itself says which community: tried in each this person leads, each
    in the unit of work that checked them (the admin cache, warmed by `led_communities`)."""
    communities = [c.chat_id for c in await led_communities(deps, caller.person)]
    if not communities:
        raise _NoGroup()
    error: DomainError = DomainError("code_invalid")
    for community_id in communities:
        try:
            return await as_group_leader(deps, caller, community_id, partial(act, cid=community_id))
        except DomainError as refused:
            error = refused
    raise error


async def _pickup_by_pass(
    deps: Deps, caller: Caller, community_id: int, act: Callable[..., Awaitable[Picked]]
) -> Picked:
    """In private, a pass says which community: acted on there, by someone the bot's record
    has leading it (a stranger costs no Telegram call), confirmed as `as_group_leader` does."""
    led = {c.chat_id for c in await led_communities(deps, caller.person)}
    if not led:
        raise _NoGroup()
    if community_id not in led:
        raise DomainError("pass_elsewhere")
    return await as_group_leader(deps, caller, community_id, partial(act, cid=community_id))
