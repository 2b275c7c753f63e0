"""Every length Telegram limits holds after rendering, in every locale, with the longest inputs.

Every message template (the contexts of `SAMPLES` in test_templates.py, built from a world where
everything is at its largest) and every label and error macro is rendered with:

- every text people type at its limit from `groupbuy.limits`, and Telegram's own limits for
  what Telegram gives us (first and last names 64, username 32, group title 128);
- the most items, the most buildings, the most entries the handlers put in one message;
- the largest prices, stocks, limits and quantities, in the currency whose amounts print widest;
- in four fillings: CJK, ASCII, emoji (two UTF-16 code units, four UTF-8 bytes each) and
  ``&<>`` (text that grows when escaped, so escaping must not push a message over).

Each number is at its own largest, even where two cannot be at once (a per-person limit and an
order of the whole stock): an upper bound, not a story.

Lengths are what Telegram counts: the text after HTML parsing (tags gone, entities decoded), in
characters (Unicode code points: TDLib, behind the Bot API, checks `utf8_length(text)`); button
texts and callback data in UTF-8 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import available_timezones

import pytest
from babel.numbers import list_currencies

from groupbuy import limits
from groupbuy.allotment import Cut
from groupbuy.model import (
    CaseRule,
    DealStats,
    DealStatus,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Tier,
    User,
)
from groupbuy.money import MAX_PRICE_MAJOR, exponent
from groupbuy.payments import WINDOW_MINUTES, Standing
from groupbuy.shortfall import Shortfall
from handlers.callbacks import Callback, Op
from handlers.ledger import ENTRIES_PER_MESSAGE
from handlers.newdeal import PROBLEMS_SHOWN
from handlers.no_shows import SHOWN as NO_SHOWS_SHOWN
from handlers.pickup_list import ROWS_PER_MESSAGE, list_messages
from handlers.shortfall import SHOWN
from messages import fitting, formatting
from messages.i18n import LOCALES
from messages.pickup_list import PickupLine, PickupList, PickupRow
from messages.render import Renderer
from tests.unit.test_templates import (
    NOW,
    SAMPLES,
    Sample,
    Texts,
    World,
    macro_context,
    telegram_text,
    world,
)

MESSAGE_MAX = 4096  # sendMessage text, after entities parsing
CAPTION_MAX = 1024  # a photo's or a document's caption
CALLBACK_ANSWER_MAX = 200  # answerCallbackQuery text: toasts and alerts
BUTTON_TEXT_MAX_BYTES = 64
CALLBACK_DATA_MAX_BYTES = 64
INVOICE_DESCRIPTION_MAX = 255  # sendInvoice description

# What Telegram lets people have, beyond what they type to us.
FIRST_NAME_MAX = 64
LAST_NAME_MAX = 64
USERNAME_MAX = 32
GROUP_TITLE_MAX = 128
MEMBERS_MAX = 200_000  # a supergroup's members: the most neighbours who can join one deal
ID_MAX = 2**31 - 1  # row ids are 32-bit integers on every database
CHARGE_ID_MAX = 128  # payments.charge_id and provider_charge_id are String(128)
CHARGES_PER_ORDER = 100  # an order paid piece by piece: the handler lists every charge
TYPED_MESSAGE_MAX = 4096  # what someone can type in one message (the profile's building answer)
LINES_IN_A_MESSAGE = TYPED_MESSAGE_MAX // 2  # the line number a one-message deal can name

# How a message template is sent, where it is not a message: its limit.
LIMITS = {
    "deal_photo": CAPTION_MAX,  # the photo before the post, with its title as caption
    "pickup_list_caption": CAPTION_MAX,  # the PDF's caption
    "invoice_description": INVOICE_DESCRIPTION_MAX,  # plain text, not a message
    # Sent with the leader's collection code as their photo (handlers.payee, handlers.paying).
    "payee_ask": CAPTION_MAX,
    "payee_saved": CAPTION_MAX,
    "payee_code": CAPTION_MAX,
}

FILLINGS = {"cjk": "团购鲜奶", "ascii": "Wm", "emoji": "🍎🥛", "escaped": "&<>"}

HANDLERS = Path(__file__).parents[2] / "handlers"


def _bound_in(source: str, pattern: str) -> int:
    """The largest number the handlers pass where `pattern` (one group: the number) matches."""
    found = [int(m) for m in re.findall(pattern, source)]
    assert found, f"no {pattern!r} in handlers/: this test reads the bound from there"
    return max(found)


_ROUTER = (HANDLERS / "router.py").read_text(encoding="utf-8")
MY_ORDERS_MAX = _bound_in(_ROUTER, r"active_for_user\(\s*user\.id,\s*(\d+)\s*\)")


def filled(filling: str, length: int) -> str:
    return (filling * length)[:length]


@cache
def widest_currency() -> str:
    """The currency whose largest amount prints longest, in any locale (CLF: 4 decimals)."""

    def width(code: str) -> int:
        amount = MAX_PRICE_MAJOR * 10 ** exponent(code)
        return max(len(formatting.money(amount, code, locale)) for locale in LOCALES)

    return max(sorted(list_currencies()), key=width)


def longest_texts(filling: str) -> Texts:
    def text(length: int) -> str:
        return filled(filling, length)

    return Texts(
        title=text(limits.TITLE_MAX),
        description=text(limits.DESCRIPTION_MAX),
        items=tuple(
            (text(limits.ITEM_NAME_MAX), text(limits.UNIT_MAX)) for _ in range(limits.ITEMS_MAX)
        ),
        place=text(limits.PLACE_MAX),
        window=text(limits.WINDOW_MAX),
        community=text(limits.COMMUNITY_NAME_MAX),
        group_title=text(GROUP_TITLE_MAX),
        first_name=text(FIRST_NAME_MAX),
        last_name=text(LAST_NAME_MAX),
        buildings=tuple(text(limits.BUILDING_NAME_MAX) for _ in range(limits.BUILDINGS_MAX)),
        unit=text(limits.UNIT_ROOM_MAX),
        room=text(limits.UNIT_ROOM_MAX),
        payee=text(limits.PAYEE_MAX),
    )


@cache
def largest_world(filling: str) -> World:
    """test_templates' world with every text, number and list at its largest."""
    texts = longest_texts(filling)
    base = world(texts)
    currency = widest_currency()
    price = MAX_PRICE_MAJOR * 10 ** exponent(currency)
    community = replace(
        base.community,
        buildings=texts.buildings,
        currency=currency,
        payment_window_minutes=WINDOW_MINUTES[1],
    )
    user = User(
        ID_MAX, texts.first_name, texts.last_name, filled("a", USERNAME_MAX), "en", None, True
    )
    resident = replace(base.resident, phone="+" + "9" * (limits.PHONE_MAX - 1))
    # Every item with as many price tiers as there may be, each at its widest.
    tiers = tuple(
        Tier(limits.STOCK_MAX - limits.TIERS_MAX + n, price - n - 1)
        for n in range(limits.TIERS_MAX)
    )
    # ... and sold by the largest case, a case nearly full and another one short.
    items = tuple(
        replace(
            item,
            price=price,
            stock=limits.STOCK_MAX,
            limit=limits.LIMIT_MAX,
            sold=limits.STOCK_MAX - limits.CASE_SIZE_MAX - 1,
            tiers=tiers,
            case_size=limits.CASE_SIZE_MAX,
        )
        for item in base.items
    )
    deal = replace(
        base.deal,
        currency=currency,
        minimum=limits.MINIMUM_MAX,
        buildings=texts.buildings,
        items=items,
        case_rule=CaseRule.WAIT,
        case_wait=limits.CASE_WAIT_HOURS_MAX,
        case_tolerance=99,
    )
    order = replace(
        base.order, lines=tuple(OrderLine(i.id, limits.STOCK_MAX) for i in items), pay_by=NOW
    )
    stats = DealStats(MEMBERS_MAX, limits.STOCK_MAX * limits.ITEMS_MAX, MEMBERS_MAX)
    return World(texts, community, user, resident, items, deal, stats, order)


def _largest_money(w: World) -> int:
    return w.order.amount(w.deal)


def maximise(context: dict[str, Any], w: World) -> dict[str, Any]:
    """The sample's money and counts at their largest (SAMPLES write them small)."""
    most = _largest_money(w)

    def part(value: int, whole: int) -> int:
        return 0 if value == 0 else most if value >= whole else most // 3

    result = dict(context)
    for key, value in context.items():
        if isinstance(value, Standing):
            result[key] = Standing(most, part(value.held, value.worth), part(value.claimed, 1))
        elif isinstance(value, Payment | Refund):
            result[key] = replace(value, amount=most, currency=w.deal.currency)
        elif isinstance(value, Shortfall):
            result[key] = Shortfall(value.item_name, limits.STOCK_MAX, MEMBERS_MAX)
        elif key == "collected" and isinstance(value, int):
            result[key] = most
        elif key in ("count", "orders") and isinstance(value, int):
            result[key] = MEMBERS_MAX
    return result


# Messages that list entries: as many as the handlers put in one message, each at its longest.


def _my_orders(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.router.cmd_myorders: the most orders it fetches, all awaiting pickup (the
    longer form: code, place and window)."""
    deal = w.deal_in(DealStatus.CLOSED, payment_mode=PaymentMode.LEADER)
    largest = _largest_money(w)
    money = Standing(largest, 0, 0)  # the longest payment line: what to pay the leader
    entries = [
        {"deal": deal, "order": w.order, "total": largest, "money": money, "tz": "Asia/Shanghai"}
        for _ in range(MY_ORDERS_MAX)
    ]
    return {"entries": entries}


def _payment(w: World) -> Payment:
    return Payment(
        id=ID_MAX, order_id=ID_MAX, deal_id=ID_MAX, user_id=ID_MAX,
        method=PaymentMethod.TRANSFER, status=PaymentStatus.CLAIMED, amount=_largest_money(w),
        currency=w.deal.currency, charge_id=None, provider_charge_id=None,
        photo_file_id="photo", created_at=NOW,
    )  # fmt: skip


def _payments_claims(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.ledger._claim_messages: one message per ENTRIES_PER_MESSAGE claims."""
    entry = {"payment": _payment(w), "code": w.order.code, "name": w.user.display_name}
    return {"deal": w.deal, "entries": [entry] * ENTRIES_PER_MESSAGE}


def _payments_refunds(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.ledger._refund_messages: every charge of the order, however many."""
    refund = Refund(
        id=ID_MAX, order_id=ID_MAX, deal_id=ID_MAX, user_id=ID_MAX, payment_id=ID_MAX,
        amount=_largest_money(w), currency=w.deal.currency, method=PaymentMethod.STARS,
        status=RefundStatus.OWED, reason=RefundReason.SHORTFALL, created_at=NOW, done_at=None,
    )  # fmt: skip
    charges = [f"{n:03}" + filled("c", CHARGE_ID_MAX - 3) for n in range(CHARGES_PER_ORDER)]
    entry = {"refund": refund, "code": w.order.code, "name": w.user.display_name}
    return {"deal": w.deal, "entries": [{**entry, "charges": charges}] * ENTRIES_PER_MESSAGE}


def _payments_summary(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    counts = {k: MEMBERS_MAX for k in ("paid", "unpaid", "claims", "owed", "done")}
    most = _largest_money(w) * MEMBERS_MAX
    amounts = {f"{k}_amount": most for k in ("paid", "unpaid", "claims", "owed", "done")}
    return {"deal": w.deal, **counts, **amounts, "received": most, "refunded": most // 3}


def _most_no_shows(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.no_shows.command: as many orders as it lists, every field at its longest, each
    handed out in part, and the count of the rest; every item left with the leader."""
    rows = [replace(row, held_back=row.lines) for row in _pickup_rows(r, locale, w, NO_SHOWS_SHOWN)]
    deal = w.deal_in(DealStatus.CLOSED)
    spare = [{"item": i, "quantity": limits.STOCK_MAX} for i in deal.items]
    # One kept for the next pickup, one the leader delivers: both legends.
    return {"deal": deal, "rows": rows, "more": MEMBERS_MAX, "kept": {rows[0].code},
            "delivered": {rows[1].code}, "spare": spare}  # fmt: skip


def _errors(r: Renderer, locale: str, w: World) -> Iterator[str]:
    contexts = error_contexts(w)
    for name in r.macro_names("errors"):
        for context in contexts:
            yield r.macro(locale, "errors", name, **context)


def _longest_error(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.common.refusal and newdeal's format error: the longest alert text there is."""
    return {"message": max(_errors(r, locale, w), key=len)}


def _most_problems(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.newdeal.one_message: the longest errors, as many as are listed, and the count
    of the rest of a message that is wrong on every line."""
    longest = sorted(_errors(r, locale, w), key=len)[-PROBLEMS_SHOWN:]
    problems = [{"line": LINES_IN_A_MESSAGE, "message": message} for message in longest]
    return {"problems": problems, "more": LINES_IN_A_MESSAGE}


def _longest_plan(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.shortfall: every item short, the plan's SHOWN orders named (first item's), each
    buyer at their longest name, and the rest counted."""
    deal = w.deal_in(DealStatus.CLOSED)
    order = w.order
    rows = [
        {
            "item": item,
            "units": limits.STOCK_MAX,
            "listed": [Cut(order, item, limits.STOCK_MAX, limits.STOCK_MAX - 1)] * SHOWN
            if n == 0
            else [],
            "more": MEMBERS_MAX,
        }
        for n, item in enumerate(deal.items)
    ]
    names = {order.user_id: w.user.display_name}
    return {"deal": deal, "rows": rows, "how": "pro_rata", "names": names}


LARGEST_SAMPLES: dict[str, list[Sample]] = {
    "shortfall_plan": [_longest_plan],
    "my_orders": [_my_orders],
    "payments_claims": [_payments_claims],
    "payments_refunds": [_payments_refunds],
    "payments_summary": [_payments_summary],
    "error": [_longest_error],
    "newdeal_format_error": [_most_problems],
    "no_shows": [_most_no_shows],
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def samples(name: str) -> list[Sample]:
    return [*SAMPLES[name], *LARGEST_SAMPLES.get(name, [])]


def rendered(renderer: Renderer, name: str, locale: str, filling: str) -> Iterator[str]:
    """The text Telegram counts, for each sample of the template."""
    w = largest_world(filling)
    for build in samples(name):
        context = maximise(build(renderer, locale, w), w)
        if name == "invoice_description":  # handlers.paying: sent as plain text
            yield renderer.plain(locale, name, **context)
        else:
            yield telegram_text(renderer.render(locale, name, **context))


@pytest.mark.parametrize("filling", list(FILLINGS))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_longest_message_fits(renderer: Renderer, name: str, locale: str, filling: str) -> None:
    limit = LIMITS.get(name, MESSAGE_MAX)
    for n, text in enumerate(rendered(renderer, name, locale, FILLINGS[filling])):
        assert len(text) <= limit, f"{name}[{n}]: {len(text)} > {limit}"


def test_largest_samples_name_templates() -> None:
    assert LARGEST_SAMPLES.keys() <= SAMPLES.keys()
    assert LIMITS.keys() <= SAMPLES.keys()


# The pickup list message: the handler splits the rows; every part must fit.


def _pickup_rows(r: Renderer, locale: str, w: World, count: int) -> list[PickupRow]:
    """handlers.pickup_list.rows, every field at its longest."""
    amount = formatting.money(_largest_money(w), w.deal.currency, locale)
    lines = tuple(PickupLine(i.name, limits.STOCK_MAX, i.unit) for i in w.items)
    payment = r.macro(locale, "labels", "pay_state_claimed", amount=amount)
    return [
        PickupRow(
            building=w.resident.building, unit=w.resident.unit, room=w.resident.room,
            name=w.user.display_name, phone=w.resident.phone, lines=lines, amount=amount,
            code=f"{n:05}", payment=payment,
        )
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize("filling", list(FILLINGS))
@pytest.mark.parametrize("locale", LOCALES)
def test_pickup_list_messages_fit(renderer: Renderer, locale: str, filling: str) -> None:
    w = largest_world(filling)
    deal = w.deal_in(DealStatus.CLOSED)
    for count in (1, ROWS_PER_MESSAGE, 3 * ROWS_PER_MESSAGE + 1):
        rows = _pickup_rows(renderer, locale, w, count)
        orders = [replace(w.order, id=n + 1, code=row.code) for n, row in enumerate(rows)]
        pickup = cast(PickupList, SimpleNamespace(rows=rows))
        sent = list_messages(renderer, locale, deal, pickup, orders, w.community.chat_id)
        assert all(any(row.code in s.text for s in sent) for row in rows), "a row was lost"
        for message in sent:
            text = telegram_text(message.text)
            assert len(text) <= MESSAGE_MAX, f"{count} rows: {len(text)}"
            for row in message.keyboard:
                for button in row:
                    assert len(button.text.encode()) <= BUTTON_TEXT_MAX_BYTES
                    assert button.data and len(button.data.encode()) <= CALLBACK_DATA_MAX_BYTES


# Labels (buttons and toasts) and errors (alerts): plain text, at most 200 characters.


def label_contexts(locale: str, w: World) -> list[dict[str, Any]]:
    """Everything a label may be given, at its longest (see test_templates.macro_context)."""
    money = formatting.money(_largest_money(w), w.deal.currency, locale)
    at = formatting.when(datetime(2027, 12, 29, 23, 59, tzinfo=UTC), longest_zone(), locale)
    return [
        {
            "item": w.items[0], "quantity": limits.STOCK_MAX, "total": _largest_money(w),
            "currency": w.deal.currency, "code": w.order.code, "name": w.texts.buildings[0],
            "amount": money, "count": MEMBERS_MAX, "collected": money,
            "title": w.texts.group_title, "leader": w.user.display_name,
            "at": at, "chosen": True, "left": limits.SLOT_SEATS_MAX,
            "span": formatting.span(
                datetime(2027, 12, 29, 23, 0, tzinfo=UTC),
                datetime(2027, 12, 29, 23, 59, tzinfo=UTC),
                longest_zone(), locale,
            ),
        }
    ]  # fmt: skip


@cache
def longest_zone() -> str:
    return max(sorted(available_timezones()), key=len)


def error_contexts(w: World) -> list[dict[str, Any]]:
    """What the code raises each error with, at its longest (test_templates.macro_context
    names every parameter). `name` of building_unknown is what someone typed in the profile (a
    whole message), or the unknown names of a deal's list."""
    joined = ", ".join(w.texts.buildings)
    longest = {
        "buildings": joined, "known": joined, "item": w.items[0].name, "code": w.order.code,
        "limit": max(limits.STOCK_MAX, limits.MINIMUM_MAX, MAX_PRICE_MAJOR, WINDOW_MINUTES[1]),
        "digits": 4, "days": limits.DEADLINE_MAX_DAYS, "line": LINES_IN_A_MESSAGE,
        "sold": limits.STOCK_MAX, "zone": longest_zone(),
        "what": "group", "deal": ID_MAX, "tz": longest_zone(), "by": w.user.display_name,
        "at": datetime(2027, 12, 29, 23, 59, tzinfo=UTC), "outcome": "moved",
        "next": datetime(2027, 12, 29, 23, 59, tzinfo=UTC), "count": MEMBERS_MAX,
        "window": filled(w.texts.window, limits.WINDOW_MAX),
        "n": limits.STOCK_MAX, "stock": limits.STOCK_MAX,
    }  # fmt: skip
    common = {**macro_context("errors", w), **longest}
    typed = filled(w.texts.title, TYPED_MESSAGE_MAX)
    return [{**common, "name": typed}, {**common, "name": joined}]


def macro_contexts(collection: str, locale: str, w: World) -> list[dict[str, Any]]:
    return label_contexts(locale, w) if collection == "labels" else error_contexts(w)


MACRO_CASES = [
    pytest.param(collection, name, id=f"{collection}.{name}")
    for collection in ("labels", "errors")
    for name in Renderer().macro_names(collection)
]


@pytest.mark.parametrize("filling", list(FILLINGS))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("collection", "name"), MACRO_CASES)
def test_longest_alert_fits(
    renderer: Renderer, collection: str, name: str, locale: str, filling: str
) -> None:
    w = largest_world(FILLINGS[filling])
    for context in macro_contexts(collection, locale, w):
        text = renderer.macro(locale, collection, name, **context)
        assert len(text) <= CALLBACK_ANSWER_MAX, f"{len(text)}: {text}"


_BUTTON_RE = re.compile(r"\b(?:button|link_button)\(\s*deps,\s*\w+,\s*[\"'](\w+)[\"']")


def button_labels() -> list[str]:
    """Every label the handlers put on a button."""
    found = {"picked_button"} | {f"lang_{locale}" for locale in LOCALES}  # built by hand
    for path in sorted(HANDLERS.glob("*.py")):
        found.update(_BUTTON_RE.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


@pytest.mark.parametrize("filling", list(FILLINGS))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", button_labels())
def test_longest_button_fits(renderer: Renderer, name: str, locale: str, filling: str) -> None:
    w = largest_world(FILLINGS[filling])
    for context in label_contexts(locale, w):
        text = renderer.macro(locale, "labels", name, **context)
        size = len(text.encode())
        assert 0 < size <= BUTTON_TEXT_MAX_BYTES, f"{size} bytes: {text}"


def test_buttons_are_found() -> None:
    assert {"add_item", "building", "join", "confirm_payment", "refund_made"} <= set(
        button_labels()
    )


@pytest.mark.parametrize("op", list(Op))
def test_largest_callback_data_fits(op: Op) -> None:
    for deal, arg in ((ID_MAX, ID_MAX), (ID_MAX, -ID_MAX)):
        assert len(Callback(op, deal, arg).pack().encode()) <= CALLBACK_DATA_MAX_BYTES


# The filters that keep typed text inside the limits (messages/fitting.py).


def test_clip_keeps_short_text_and_cuts_long_text_to_the_limit() -> None:
    assert fitting.clip("Milk", 4) == "Milk"
    assert fitting.clip("Fresh milk", 6) == "Fresh…"
    assert fitting.clip("🍎🥛🍎🥛", 3) == "🍎🥛…"
    assert fitting.clip("abc", 1) == "…"
    assert all(len(fitting.clip("团" * 50, n)) == n for n in range(1, 50))


def test_clip_bytes_cuts_whole_characters() -> None:
    assert fitting.clip_bytes("Milk", 4) == "Milk"
    assert fitting.clip_bytes("鲜牛奶", 9) == "鲜牛奶"
    for text in ("鲜牛奶" * 30, "🍎🥛" * 30, "a鲜🍎" * 30):
        for limit in range(3, 70):
            clipped = fitting.clip_bytes(text, limit)
            assert len(clipped.encode()) <= limit
            assert clipped.endswith("…") and text.startswith(clipped[:-1])
            assert len(clipped.encode()) > limit - 4  # as much as fits: a character is ≤ 4 bytes


def test_fit_shows_whole_entries_and_counts_the_rest() -> None:
    assert fitting.fit("1, 2, 3A", 20) == ("1, 2, 3A", 0)
    assert fitting.fit("1, 2, 3A", 4) == ("1, 2", 1)
    assert fitting.fit(["ch_1", "ch_22"], 5) == ("ch_1", 1)
    assert fitting.fit(["a-very-long-charge-id"], 8) == ("a-very-…", 0)
    assert fitting.fit(["a-very-long-charge-id", "x"], 8) == ("a-very-…", 1)
    assert fitting.fit("", 10) == ("", 0)
    assert fitting.fit([], 10) == ("", 0)
    assert fitting.fit("1;2;3", 3, sep=";") == ("1;2", 1)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_long_building_list_says_how_many_more(renderer: Renderer, locale: str) -> None:
    names = [f"{n}号" for n in range(1, limits.BUILDINGS_MAX + 1)]
    text = renderer.macro(locale, "errors", "deal_not_for_building", buildings=", ".join(names))
    shown = fitting.fit(names, 120)
    assert shown.more and shown.shown in text and str(shown.more) in text
    few = renderer.macro(locale, "errors", "deal_not_for_building", buildings="1, 2")
    assert "1, 2" in few and few != text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_typed_building_is_echoed_clipped(renderer: Renderer, locale: str) -> None:
    typed = "楼" * TYPED_MESSAGE_MAX
    text = renderer.macro(locale, "errors", "building_unknown", name=typed, known="1, 2")
    assert "楼" * 31 + "…" in text and "楼" * 32 not in text
