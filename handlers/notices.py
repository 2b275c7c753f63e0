"""Turning an outbox notice into the message it owes, in its recipient's language."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from groupbuy import pickup_pass
from groupbuy.model import Community, Deal, DealStatus, RefundReason, RefundStatus, User
from groupbuy.no_shows import still_to_come
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from groupbuy.payments import standing
from groupbuy.ports import UnitOfWork
from handlers.actions import Keyboard, Send
from handlers.callbacks import Callback, Op
from handlers.common import button
from handlers.context import Deps
from handlers.deal_post import post_parts
from handlers.my_order import Where, order_lines, pay_buttons, point_of, slot_rows, where_of
from messages import qr
from messages.fitting import shown_length

_GROUP = {
    NoticeKind.DEADLINE_REMINDER,
    NoticeKind.DEAL_CLOSED,
    NoticeKind.DEAL_FAILED,
    NoticeKind.DEAL_CANCELLED,
    NoticeKind.GOODS_ARRIVED,
    NoticeKind.CASE_WAIT,
}
_POST = {NoticeKind.DEAL_PHOTO, NoticeKind.DEAL_POST}
_TO_LEADER = {NoticeKind.POST_UNDELIVERED, NoticeKind.INVOICE_UNDELIVERED}
_ABOUT_PAYMENT = {NoticeKind.PAYMENT_RECEIPT, NoticeKind.PAYMENT_REJECTED}
_ABOUT_REFUND = {NoticeKind.REFUND_OWED, NoticeKind.REFUND_DONE}
# To a buyer, that the deal will not go ahead, with the refund owed to them (if they paid).
_ABOUT_THE_END = {NoticeKind.ORDER_FAILED, NoticeKind.ORDER_CANCELLED}
# To a buyer, about what they still have to come for (nothing said once it was handed out).
_ABOUT_WHAT_WAITS = {
    NoticeKind.ARRIVED,
    NoticeKind.PICKUP_REMINDER,
    NoticeKind.KEPT_FOR_NEXT,
    NoticeKind.SLOT_REMINDER,
    NoticeKind.SLOTS_OPEN,
}
# To a buyer, with the slot buttons when they have not booked one (groupbuy.slots).
_WITH_BUTTONS = {
    NoticeKind.PICKUP,
    NoticeKind.ARRIVED,
    NoticeKind.PICKUP_REMINDER,
    NoticeKind.PAYMENT_REMINDER,
    NoticeKind.SLOT_REMINDER,
    NoticeKind.SLOTS_OPEN,
}
# To a leader, about their group: what became of it and of their open deals there.
_ABOUT_THE_GROUP = {
    NoticeKind.GROUP_MOVED,
    NoticeKind.BOT_REMOVED,
    NoticeKind.BOT_DEMOTED,
    NoticeKind.TOPIC_GONE,
}


async def render(deps: Deps, pending: PendingNotice) -> Send | None:
    """None when there is nothing left to say (the deal or order is gone, the post is up).

    Read as a press's change is written (`deps.write`): on SQLite in the group commit's batch,
    a few tens of microseconds a statement, instead of a unit of work of its own whose every
    statement is a hop to aiosqlite's thread. A sold-out close owes a notice per buyer, sent
    while the neighbours keep pressing: read the other way, each cost ~9 ms of the bot's CPU."""
    found = await deps.write(lambda uow: _render(deps, uow, pending))
    return found.drawn() if isinstance(found, _WithPass) else found


async def _render(deps: Deps, uow: UnitOfWork, pending: PendingNotice) -> Send | _WithPass | None:
    notice = pending.notice
    deal = await uow.deals.get(notice.deal_id)
    if deal is None:
        return None
    community = await uow.communities.get(deal.community_id)
    if community is None:
        return None
    if notice.kind in _POST:
        if deal.post_message_id is not None or deal.status is not DealStatus.OPEN:
            return None  # already up (a retry after the answer was lost), or over
        stats = await uow.deals.stats(deal.id)
        photo, post = post_parts(deps, deal, community, stats)
        part = post if notice.kind is NoticeKind.DEAL_POST else photo
        return replace(part, thread_id=deal.thread_id) if part is not None else None
    if notice.kind is NoticeKind.REFUND_REFUSED:
        leader = await uow.users.get(notice.chat_id)
        refund = await uow.payments.refund(notice.ref)
        buyer = await uow.users.get(refund.user_id) if refund else None
        if refund is None or refund.status is not RefundStatus.OWED:
            return None  # made meanwhile: nothing to report
        text = deps.texts.render(
            deps.user_locale(leader),
            "notice_refund_refused",
            deal=deal,
            refund=refund,
            buyer=buyer.display_name if buyer else str(refund.user_id),
        )
        return Send(notice.chat_id, text)
    if notice.kind in _ABOUT_THE_GROUP:
        leader = await uow.users.get(notice.chat_id)
        open_deals = await uow.deals.for_community(community.chat_id, [DealStatus.OPEN], 50)
        text = deps.texts.render(
            deps.user_locale(leader),
            f"notice_{notice.kind.value}",
            community=community,
            deals=[d for d in open_deals if d.leader_id == notice.chat_id],
        )
        return Send(notice.chat_id, text)
    if notice.kind in _TO_LEADER:
        leader = await uow.users.get(notice.chat_id)
        order = await uow.orders.get(notice.ref) if notice.ref else None
        buyer = await uow.users.get(order.user_id) if order else None
        text = deps.texts.render(
            deps.user_locale(leader),
            f"notice_{notice.kind.value}",
            deal=deal,
            community=community,
            buyer=buyer.display_name if buyer else "",
            code=order.code if order else "",
        )
        return Send(notice.chat_id, text)
    if notice.kind in (NoticeKind.PICKUP_MOVED, NoticeKind.PICKUP_CHANGED):
        return await _pickup_moved(deps, uow, pending, deal, community)
    if notice.kind in _GROUP:
        stats = await uow.deals.stats(deal.id)
        locale = deps.community_locale(community)
        keyboard: Keyboard = ()
        if notice.kind is NoticeKind.CASE_WAIT and deal.status is not DealStatus.OPEN:
            return None  # closed meanwhile (by the leader): nothing to fill any more
        if notice.kind in (NoticeKind.DEADLINE_REMINDER, NoticeKind.CASE_WAIT):
            keyboard = ((button(deps, locale, "my_order", Callback(Op.MINE, deal.id)),),)
        # The goods reached one of the deal's pickup points (`ref`): the group is told which.
        at = None
        if notice.kind is NoticeKind.GOODS_ARRIVED and notice.ref in deal.points:
            at = (await uow.points.many([notice.ref])).get(notice.ref)
        text = deps.texts.render(
            locale,
            f"notice_{notice.kind.value}",
            deal=deal,
            stats=stats,
            tz=community.timezone,
            point=at,
        )
        return Send(notice.chat_id, text, keyboard, thread_id=deal.thread_id)
    user_id = notice.user_id or notice.chat_id
    user = await uow.users.get(user_id)
    if notice.kind is NoticeKind.REORDER_OPEN:
        return _reorder_open(deps, notice, deal, community, user)
    order = await uow.orders.of_user(deal.id, user_id)
    if order is None and notice.kind not in _ABOUT_REFUND:
        return None
    extra: dict[str, Any] = {}
    lines = order_lines(deal, order)
    if notice.kind in _ABOUT_PAYMENT:
        extra["payment"] = await uow.payments.get(notice.ref)
    elif notice.kind in _ABOUT_REFUND:
        extra["refund"] = await uow.payments.refund(notice.ref)
    elif notice.kind is NoticeKind.PAYMENT_REMINDER and order is not None:
        money = await standing(uow, deal, order)
        if money.due <= 0:
            return None  # paid meanwhile: no reminder
        extra["money"] = money
    elif notice.kind in _ABOUT_THE_END and order is not None:
        extra["refunds"] = [
            r
            for r in await uow.payments.refunds_for_order(order.id)
            if r.user_id == user_id and r.reason in (RefundReason.FAILED, RefundReason.CANCELLED)
        ]
    elif notice.kind is NoticeKind.PICKUP and order is not None:
        extra["money"] = await standing(uow, deal, order)  # what to bring, or paid
    elif notice.kind in _ABOUT_WHAT_WAITS and order is not None:
        to_come = await still_to_come(uow, order)
        if not to_come:
            return None  # cancelled, or handed out before the notice went: nothing to come for
        # What is still to come: an order handed out in part waits only for its held-back lines.
        lines = [
            {"item": i, "quantity": to_come[i.id], "amount": i.unit_price * to_come[i.id]}
            for i in deal.items
            if i.id in to_come
        ]
        extra["money"] = await standing(uow, deal, order)
    if notice.kind is NoticeKind.CASE_CUT:
        extra["item"] = deal.item(notice.ref // 1_000_000)  # (item, order): groupbuy.deals
    if notice.kind is NoticeKind.ORDER_LAPSED:
        extra["cut_short"] = notice.ref < 0  # by the close, not by the clock (groupbuy.payments)
    if any(value is None for value in extra.values()):
        return None
    locale = deps.user_locale(user)
    # Where and when the order is collected: its pickup point and slot, when the deal has them.
    where = await where_of(uow, deal, deps.clock.now()) if order else Where()
    point = point_of(order, where.points)
    slot = where.slot_of(order)
    if notice.kind is NoticeKind.SLOT_REMINDER and (slot is None or slot.id != notice.ref):
        return None  # moved to another slot meanwhile: that one's reminder is theirs
    if notice.kind is NoticeKind.SLOTS_OPEN and slot is not None:
        return None  # booked meanwhile
    # A refund may go to someone with no order in the deal (they paid another's invoice): its
    # message is about the money only.
    text = deps.texts.render(
        locale,
        f"notice_{notice.kind.value}",
        deal=deal,
        order=order,
        point=point,
        slot=slot,
        booking=bool(where.slots) and slot is None,
        lines=lines,
        total=order.amount(deal) if order else 0,
        tz=community.timezone,
        community=community,
        **extra,
    )
    buttons: Keyboard = ()
    if notice.kind in _WITH_BUTTONS:
        # Pay-the-leader mode: "I have paid" and the collection code, right under the amount.
        buttons = tuple(pay_buttons(deps, locale, deal, extra["money"], community))
        if slot is None:  # a slot to book, when the deal has them
            buttons += tuple(slot_rows(deps, locale, deal, order, where, community.timezone))
        if point is not None and point.located:  # where it is, on the map (sendVenue)
            map_button = Callback(Op.POINT_MAP, deal.id, point.id)
            buttons += ((button(deps, locale, "point_map", map_button, name=point.name),),)
        if notice.kind is NoticeKind.PICKUP:  # the same again next time (groupbuy.reorder)
            buttons += ((button(deps, locale, "order_again", Callback(Op.REORDER, deal.id)),),)
    send = Send(notice.chat_id, text, buttons)
    # A notice too long for a caption goes as text: its code is typed as ever.
    if notice.kind is NoticeKind.PICKUP and order is not None and shown_length(text) <= CAPTION_MAX:
        signed = pickup_pass.payload(deps.config.pass_key, community.chat_id, order.code)
        return _WithPass(send, signed)
    return send


def _reorder_open(
    deps: Deps, notice: Notice, deal: Deal, community: Community, user: User | None
) -> Send | None:
    """To someone who asked: what they bought in deal `notice.ref` is open again, here."""
    if deal.status is not DealStatus.OPEN:
        return None  # closed before the message could go: nothing to order any more
    locale = deps.user_locale(user)
    text = deps.texts.render(locale, "notice_reorder_open", deal=deal, tz=community.timezone)
    again = Callback(Op.REORDER, notice.ref)
    return Send(notice.chat_id, text, ((button(deps, locale, "order_again", again),),))


CAPTION_MAX = 1024  # Telegram's limit on a photo's caption, in characters shown


@dataclass(frozen=True, slots=True)
class _WithPass:
    """The pickup notice as a photo of its pickup pass (a QR code the leader scans at the
    table: groupbuy.pickup_pass) with the notice as its caption: one message, as before (a
    close owes each buyer one, and Telegram's limits count messages, not bytes). Drawn once
    the unit of work is over (`render`): ~1 ms that a batch of presses need not wait for."""

    send: Send
    signed: str

    def drawn(self) -> Send:
        return replace(self.send, photo_upload=qr.png(self.signed))


async def _pickup_moved(
    deps: Deps, uow: UnitOfWork, pending: PendingNotice, deal: Deal, community: Community
) -> Send | None:
    """The pickup moved: the group is told once; each buyer still to pick up, with their code."""
    notice = pending.notice
    change = await uow.deals.pickup_change(notice.ref)
    if change is None:
        return None
    if notice.kind is NoticeKind.PICKUP_MOVED:
        text = deps.texts.render(
            deps.community_locale(community), "notice_pickup_moved", deal=deal, change=change
        )
        return Send(notice.chat_id, text, thread_id=deal.thread_id)
    user_id = notice.user_id or notice.chat_id
    order = await uow.orders.of_user(deal.id, user_id)
    if order is None or not await still_to_come(uow, order):
        return None  # handed out meanwhile: the move does not concern them
    user = await uow.users.get(user_id)
    text = deps.texts.render(
        deps.user_locale(user), "notice_pickup_changed", deal=deal, change=change, order=order
    )
    return Send(notice.chat_id, text)
