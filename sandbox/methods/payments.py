"""Telegram Payments: sendInvoice, answerPreCheckoutQuery and refundStarPayment.

The payer's side (pre-checkout query, successful payment) is played by ``sandbox.payer``.
"""

from __future__ import annotations

from typing import Any

from sandbox import render
from sandbox.errors import bad_request
from sandbox.methods.base import Ctx, Params, method, writable_chat
from sandbox.methods.messages import _new_message, _rate
from sandbox.methods.updates import EXPIRED
from sandbox.payments import CURRENCIES, PRE_CHECKOUT_TIMEOUT, STARS, InvoiceRec, RefundRec


def _check_invoice(p: Params) -> None:
    if not 1 <= len(p["title"]) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID" if p["title"] else "title is empty")
    if not 1 <= len(p["description"]) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(p["payload"].encode("utf-8")) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    currency = p["currency"]
    if currency not in CURRENCIES:
        raise bad_request("CURRENCY_INVALID")
    token = p.get("provider_token", "")
    prices: list[dict[str, Any]] = p["prices"]
    if currency == STARS:
        if token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if len(prices) != 1:
            raise bad_request("STARS_INVOICE_INVALID")
    elif not token:
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if not prices:
        raise bad_request("prices is empty")
    for price in prices:
        if not price["label"]:
            raise bad_request("LABEL_INVALID")
    if sum(int(price["amount"]) for price in prices) <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    rows = (p.get("reply_markup") or {}).get("inline_keyboard", [])
    if rows and (not rows[0] or "pay" not in rows[0][0]):
        # Telegram: the first button of an invoice's keyboard must be a Pay button.
        raise bad_request("REPLY_MARKUP_BUY_EMPTY")


@method("sendInvoice")
async def send_invoice(ctx: Ctx, p: Params) -> Any:
    chat = writable_chat(ctx, p["chat_id"])
    _check_invoice(p)
    msg = _new_message(ctx, chat, p)
    invoice = InvoiceRec(
        chat_id=chat.id,
        message_id=msg.message_id,
        title=p["title"],
        description=p["description"],
        payload=p["payload"],
        currency=p["currency"],
        prices=[{"label": x["label"], "amount": int(x["amount"])} for x in p["prices"]],
        provider_token=p.get("provider_token", ""),
        start_parameter=p.get("start_parameter", ""),
        need_name=bool(p.get("need_name")),
        need_phone_number=bool(p.get("need_phone_number")),
        need_email=bool(p.get("need_email")),
        is_flexible=bool(p.get("is_flexible")),
        photo_url=p.get("photo_url"),
    )
    msg.extra["invoice"] = {
        "title": invoice.title,
        "description": invoice.description,
        "start_parameter": invoice.start_parameter,
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
    }
    ctx.state.payments.invoices[(chat.id, msg.message_id)] = invoice
    _rate(ctx, chat, "send")
    return render.dump(render.message(ctx.state, ctx.state.add_message(msg)))


@method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(ctx: Ctx, p: Params) -> Any:
    st = ctx.state
    query = st.payments.pre_checkouts.get(p["pre_checkout_query_id"])
    late = query is not None and st.clock.now() - query.created > PRE_CHECKOUT_TIMEOUT
    if query is None or query.answer is not None or late or query.done.is_set():
        raise bad_request(EXPIRED)
    ok = bool(p["ok"])
    error = p.get("error_message")
    if not ok and not error:
        raise bad_request("error_message is empty")
    query.answer = {"ok": ok, "error_message": None if ok else error}
    query.done.set()
    st.changed({"type": "pre_checkout_answer", "pre_checkout_query_id": query.id, **query.answer})
    return True


@method("refundStarPayment")
async def refund_star_payment(ctx: Ctx, p: Params) -> Any:
    st = ctx.state
    charge = st.payments.charges.get(p["telegram_payment_charge_id"])
    if charge is None or charge.user_id != p["user_id"] or charge.currency != STARS:
        raise bad_request("CHARGE_NOT_FOUND")
    if charge.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    charge.refunded = True
    refund = RefundRec(
        charge.telegram_payment_charge_id,
        charge.user_id,
        charge.currency,
        charge.total_amount,
        st.clock.now(),
    )
    st.payments.refunds.append(refund)
    st.changed(
        {
            "type": "refund",
            "user_id": charge.user_id,
            "charge_id": refund.telegram_payment_charge_id,
        }
    )
    return True
