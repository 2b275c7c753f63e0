"""The leader's money view: /payments per deal, confirming transfers and refunds, reminders,
and the community's payment mode (/paymode, /paywindow)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from groupbuy.errors import DomainError
from groupbuy.live import Live, LiveKind, StaleMessage
from groupbuy.model import (
    Community,
    Deal,
    DealStatus,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from groupbuy.payments import (
    confirm_refund,
    decide_claim,
    remind_unpaid,
    standing,
    with_mode,
    with_window,
)
from groupbuy.ports import UnitOfWork
from handlers import guide
from handlers.actions import Action, Answer, Button, Edit, Send
from handlers.authority import Caller, as_leader, as_leader_of_group, leader_group, leader_named
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, refusal, remember, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.paying import window

MODES = (PaymentMode.CASH, PaymentMode.LEADER, PaymentMode.ONLINE, PaymentMode.STARS)
REMIND_EVERY = timedelta(hours=1)
ENTRIES_PER_MESSAGE = 10  # a message per ten claims or refunds, each with its own buttons


async def summary(deps: Deps, deal: Deal, locale: str, chat_id: int) -> list[Action]:
    """Paid, awaiting payment, awaiting confirmation, refunds owed and made, totals; then one
    message per batch of claims to confirm and refunds to make, with their buttons. The first
    is kept current (groupbuy.live): a payment, a confirmation or a refund shows in it."""
    first, claims, refunds = await _ledger(deps, deal, locale, chat_id)
    return [replace(first, live=Live(LiveKind.PAYMENTS, deal.id)), *claims, *refunds]


async def redrawn_summary(deps: Deps, message: StaleMessage) -> Edit | None:
    """The payments summary as it should look now."""
    async with deps.uow() as uow:
        deal = await uow.deals.get(message.deal_id)
        leader = await uow.users.get(message.chat_id)
    if deal is None or leader is None:
        return None
    first, _, _ = await _ledger(deps, deal, deps.user_locale(leader), message.chat_id)
    return Edit(message.chat_id, message.message_id, first.text, first.keyboard)


async def _ledger(
    deps: Deps, deal: Deal, locale: str, chat_id: int
) -> tuple[Send, list[Send], list[Send]]:
    async with deps.uow() as uow:
        orders = await uow.orders.for_deal(deal.id)
        payments = await uow.payments.for_deal(deal.id)
        refunds = await uow.payments.refunds_for_deal(deal.id)
        standings = {o.id: await standing(uow, deal, o) for o in orders}
        users = await uow.users.many([o.user_id for o in orders] + [r.user_id for r in refunds])
        all_orders = {o.id: o for o in orders}
        for r in refunds:
            if r.order_id not in all_orders:
                found = await uow.orders.get(r.order_id)
                if found is not None:
                    all_orders[found.id] = found
    received = [p for p in payments if p.status is PaymentStatus.RECEIVED]
    claims = [p for p in payments if p.status is PaymentStatus.CLAIMED]
    owed = [r for r in refunds if r.status is RefundStatus.OWED]
    done = [r for r in refunds if r.status is RefundStatus.DONE]
    paid = [o for o in orders if standings[o.id].paid]
    unpaid = [o for o in orders if standings[o.id].due > 0]
    text = deps.texts.render(
        locale,
        "payments_summary",
        deal=deal,
        paid=len(paid),
        paid_amount=sum(standings[o.id].held for o in paid),
        unpaid=len(unpaid),
        unpaid_amount=sum(standings[o.id].due for o in unpaid),
        claims=len(claims),
        claims_amount=sum(p.amount for p in claims),
        owed=len(owed),
        owed_amount=sum(r.amount for r in owed),
        done=len(done),
        done_amount=sum(r.amount for r in done),
        received=sum(p.amount for p in received),
        refunded=sum(r.amount for r in refunds),
    )
    keyboard: tuple[tuple[Button, ...], ...] = ()
    if unpaid and deal.status is DealStatus.OPEN:
        keyboard = ((button(deps, locale, "remind_unpaid", Callback(Op.REMIND_UNPAID, deal.id)),),)
    codes = {o.id: o.code for o in all_orders.values()}
    names = {uid: u.display_name for uid, u in users.items()}
    return (
        Send(chat_id, text, keyboard),
        _claim_messages(deps, locale, deal, claims, codes, names, chat_id),
        _refund_messages(deps, locale, deal, owed, payments, refunds, codes, names, chat_id),
    )


def _charges(r: Refund, payments: list[Payment], refunded: dict[int, int]) -> list[str]:
    """The card charges a refund made by hand goes back to: the one it names (money that did
    not fit the order); otherwise its payee's own charges on the order that are not refunded
    in full yet. Never another payer's card, never a charge already given back."""
    found = []
    for p in payments:
        if p.status is not PaymentStatus.RECEIVED or not p.charge_id or p.order_id != r.order_id:
            continue
        if r.payment_id is not None:
            mine = p.id == r.payment_id
        else:
            mine = p.user_id == r.user_id and refunded.get(p.id, 0) < p.amount
        if mine:
            found.append(p.provider_charge_id or p.charge_id)
    return found


def _claim_messages(
    deps: Deps,
    locale: str,
    deal: Deal,
    claims: list[Payment],
    codes: dict[int, str],
    names: dict[int, str],
    chat_id: int,
) -> list[Send]:
    messages: list[Send] = []
    for start in range(0, len(claims), ENTRIES_PER_MESSAGE):
        batch = claims[start : start + ENTRIES_PER_MESSAGE]
        rows = tuple(
            (
                button(
                    deps,
                    locale,
                    "confirm_payment",
                    Callback(Op.CONFIRM_PAYMENT, deal.id, p.id),
                    code=codes.get(p.order_id, "?"),
                ),
                button(
                    deps,
                    locale,
                    "reject_payment",
                    Callback(Op.REJECT_PAYMENT, deal.id, p.id),
                    code=codes.get(p.order_id, "?"),
                ),
            )
            for p in batch
        )
        entries = [
            {"payment": p, "code": codes.get(p.order_id, "?"), "name": names.get(p.user_id, "")}
            for p in batch
        ]
        text = deps.texts.render(locale, "payments_claims", deal=deal, entries=entries)
        messages.append(Send(chat_id, text, rows))
    return messages


def _refund_messages(
    deps: Deps,
    locale: str,
    deal: Deal,
    owed: list[Refund],
    payments: list[Payment],
    refunds: list[Refund],
    codes: dict[int, str],
    names: dict[int, str],
    chat_id: int,
) -> list[Send]:
    """Refunds the leader makes by hand, with the charge ids a card refund needs."""
    refunded: dict[int, int] = {}  # by the refunds that name a charge
    for r in refunds:
        if r.payment_id is not None:
            refunded[r.payment_id] = refunded.get(r.payment_id, 0) + r.amount
    messages: list[Send] = []
    for start in range(0, len(owed), ENTRIES_PER_MESSAGE):
        batch = owed[start : start + ENTRIES_PER_MESSAGE]
        entries = [
            {
                "refund": r,
                "code": codes.get(r.order_id, "?"),
                "name": names.get(r.user_id, ""),
                "charges": _charges(r, payments, refunded),
            }
            for r in batch
        ]
        rows = tuple(
            (
                button(
                    deps,
                    locale,
                    "refund_made",
                    Callback(Op.REFUND_MADE, deal.id, r.id),
                    code=codes.get(r.order_id, "?"),
                ),
            )
            for r in batch
            if r.method is not PaymentMethod.STARS  # Stars go back through the Bot API
        )
        text = deps.texts.render(locale, "payments_refunds", deal=deal, entries=entries)
        messages.append(Send(chat_id, text, rows))
    return messages


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/payments [deal id]: the newest deal of the group unless one is named; sent privately."""
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    if message.anonymous_admin:  # the money view goes to a person: an anonymous admin is none
        return [Send(message.chat.id, deps.texts.render(locale, "leaders_only"))]
    if message.chat.is_private and not args.strip():
        return [await guide.which_deal(deps, message, user, "payments")]
    try:
        deal = await leader_named(deps, Caller.of(message), args, list(DealStatus))
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    if deal is None:
        return [Send(message.chat.id, deps.texts.render(locale, "list_none"), personal=True)]
    if not user.started:
        return [Send(message.chat.id, deps.texts.render(locale, "start_bot_first"))]
    return await summary(deps, deal, locale, user.id)  # in private: nothing in the group


async def on_press(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """The leader's money buttons, each acting in the unit of work that read the deal and
    checked the presser leads its group (handlers.authority.as_leader). The refund or payment
    must be of the deal the button names: a button naming one group's deal and another's
    refund is refused."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> list[Action]:
        community = await uow.communities.get(deal.community_id)
        if cb.op is Op.REMIND_UNPAID:
            reminded = await remind_unpaid(uow, deal, now, REMIND_EVERY)
            await uow.commit()
            key = "reminded_toast" if reminded else "remind_too_soon_toast"
            return [Answer(press.query_id, deps.texts.macro(locale, "labels", key, count=reminded))]
        if cb.op is Op.REFUND_MADE:
            refund = await uow.payments.refund(cb.arg)
            if refund is None or refund.deal_id != deal.id:
                raise DomainError("stale_button")
            await confirm_refund(uow, refund.id, now)
            toast = "refund_made_toast"
        else:
            payment = await uow.payments.get(cb.arg)
            if payment is None or payment.deal_id != deal.id:
                raise DomainError("stale_button")
            accept = cb.op is Op.CONFIRM_PAYMENT
            await decide_claim(uow, payment.id, accept, now, window(community))
            toast = "payment_confirmed_toast" if accept else "payment_rejected_toast"
        await uow.commit()
        return [Answer(press.query_id, deps.texts.macro(locale, "labels", toast))]

    try:
        return await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]


async def _group_locale(deps: Deps, message: MessageIn) -> tuple[str, list[Action]]:
    """The language to answer a group's payment command in, or the refusal to send when the
    group is not one the bot knows."""
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        community = None if message.chat.is_private else await uow.communities.get(message.chat.id)
        await uow.commit(mark=False)
    locale = deps.community_locale(community) if community else deps.user_locale(user)
    if community is None:
        return locale, [Send(message.chat.id, deps.texts.render(locale, "setup_in_group"))]
    return locale, []


async def mode_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/paymode in the group: a leader picks how residents pay (new deals use it)."""
    locale, refused = await _group_locale(deps, message)
    if refused:
        return refused
    try:  # only shows the choice: the press that makes it is checked again as it acts
        community = await leader_group(deps, Caller.of(message))
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    rows = tuple(
        (button(deps, locale, f"mode_{mode.value}", Callback(Op.PAY_MODE, 0, i)),)
        for i, mode in enumerate(MODES)
    )
    text = deps.texts.render(
        locale, "paymode_choose", community=community, online=deps.config.online_payments
    )
    return [Send(message.chat.id, text, rows)]


async def on_mode(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    if not 0 <= cb.arg < len(MODES):
        return [alert(deps, press.query_id, locale, DomainError("stale_button"))]
    mode = MODES[cb.arg]

    async def act(uow: UnitOfWork, community: Community) -> Community:
        if mode is PaymentMode.ONLINE and not deps.config.online_payments:
            raise DomainError("payments_not_configured")
        updated = with_mode(community.set_in(press.thread_id), mode, deps.config.default_currency)
        await uow.communities.save(updated)
        await uow.commit()
        return updated

    try:  # the group the /paymode question was asked in, which the presser must lead
        updated = await as_leader_of_group(deps, Caller.of(press), act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    text = deps.texts.render(deps.community_locale(updated), "paymode_set", community=updated)
    return [Answer(press.query_id), Edit(press.chat.id, press.message_id, text)]


async def window_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/paywindow MINUTES: how long unpaid units are held (never past a deal's deadline)."""
    locale, refused = await _group_locale(deps, message)
    if refused:
        return refused

    async def act(uow: UnitOfWork, community: Community) -> Community:
        updated = with_window(community.set_in(message.thread_id), args)
        await uow.communities.save(updated)
        await uow.commit()
        return updated

    try:
        updated = await as_leader_of_group(deps, Caller.of(message), act)
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    return [Send(message.chat.id, deps.texts.render(locale, "paywindow_set", community=updated))]
