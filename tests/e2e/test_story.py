"""The whole story, played through the emulator against the real bot runtime:

set up a compound, open a deal through the private dialog, neighbours join (one of them has
never talked to the bot), change and cancel orders, refusals, the deadline, pickup notices,
the leader's pickup list (PDF + CSV) and marking orders picked up.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import openpyxl  # type: ignore[import-untyped]
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from groupbuy.model import DealStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    SKIP,
    World,
    answer_to,
    answered_privately,
    bot_says,
    group_in,
    last_id,
    press_for_reply,
    say,
    start_payload,
    text_of,
)

LEADERS_ONLY = "Only the group's admins (leaders) can do that."
STALE = "This button is out of date."
CODE_RE = re.compile(r"Pickup code: ([A-Z0-9]{4,8})")
ONE_MESSAGE_DEAL = """/newdeal
Title: Fresh milk
Item: Milk 1L | bottle | 12.50 | 100 | 3
Item: Yogurt | cup | 5 | 50
Deadline: tomorrow 18:00
Minimum: 2 people
Pickup: Property office, gate 2
Window: Sat 9:00-11:00"""


@dataclass(frozen=True)
class Cast:
    olga: int  # the group's owner: a leader
    ann: int  # never started the bot
    bob: int  # started the bot, no profile yet
    carol: int  # joins, then cancels
    dave: int  # a neighbour, not an admin
    group: int


async def _press_and_wait(
    world: World, user: int, chat: int, message_id: int, *, data: str
) -> SentMessage:
    """Press a dialog button; return the bot's next message in that chat."""
    after = last_id(world, chat)
    answer = await world.emu.press_button(user, chat, message_id, data=data)
    assert not answer.show_alert, answer
    return await bot_says(world, chat, after)


def _data_of(message: SentMessage, label: str) -> str:
    for row in message.keyboard:
        for text, data in row:
            if text == label:
                return data
    raise AssertionError(f"no button {label!r} on {message.button_labels()}")


async def _set_up(world: World) -> Cast:
    """The people, the group, the bot added and the setup dialog."""
    emu = world.emu

    # --- the group, the bot added, the setup dialog ---------------------------------------
    olga = await emu.add_user("Olga", last_name="Leader", username="olga", language_code="en")
    ann = await emu.add_user("Ann", last_name="Lee", language_code="en")
    bob = await emu.add_user("Bob", last_name="Brown", language_code="en")
    carol = await emu.add_user("Carol", last_name="Chen", language_code="en")
    dave = await emu.add_user("Dave", language_code="en")  # a neighbour, not an admin
    group = await emu.create_group("Sunny Garden residents", owner=olga, members=[ann, bob, carol])
    await emu.add_member(group, dave)

    await emu.add_bot_to_group(group, olga)
    greeting = await bot_says(world, group, 0)
    assert "Hello, neighbours!" in text_of(greeting)
    [[(label, url)]] = greeting.keyboard
    assert label == "⚙️ Set up"
    assert url == f"https://t.me/groupbuy_test_bot?start=setup_{-group}"

    asked = await say(world, olga, olga, f"/start {start_payload(url)}")
    assert "What is the compound called?" in text_of(asked)
    assert "Sunny Garden residents" in text_of(asked)
    asked = await say(world, olga, olga, "Sunny Garden")
    assert "Which buildings" in text_of(asked)
    asked = await say(world, olga, olga, "1, 2, 3A")
    assert "Which currency" in text_of(asked) and "CNY" in text_of(asked)
    assert asked.button_labels() == ["Keep"]
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)
    assert "Which timezone" in text_of(asked) and "Asia/Shanghai" in text_of(asked)
    group_before = last_id(world, group)
    done = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)
    assert "All set: Sunny Garden, buildings 1, 2, 3A, CNY, Asia/Shanghai" in text_of(done)
    announced = await bot_says(world, group, group_before)
    assert "Sunny Garden is ready for group buys" in text_of(announced)

    return Cast(olga, ann, bob, carol, dave, group)


async def _open_deal_by_dialog(world: World, cast: Cast) -> SentMessage:
    """/newdeal in the group, then the whole dialog in private; returns the post."""
    emu, olga, group = world.emu, cast.olga, cast.group

    # --- /newdeal in the group, then the whole dialog in private --------------------------
    cont = await say(world, olga, group, "/newdeal")
    assert "Let's prepare the deal in private chat." in text_of(cont)
    [[(label, url)]] = cont.keyboard
    assert label == "Continue in private chat"
    assert start_payload(url) == f"deal_{-group}"

    after = last_id(world, olga)
    await emu.send_message(olga, olga, f"/start {start_payload(url)}")
    asked = await bot_says(world, olga, after, "What is the deal called?")
    assert "A new deal for Sunny Garden" in text_of(await bot_says(world, olga, after))
    asked = await say(world, olga, olga, "Fresh milk")
    assert "short description" in text_of(asked)
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)
    assert "The first item: its name?" in text_of(asked)
    assert "Its unit" in text_of(await say(world, olga, olga, "Milk 1L"))
    assert "Price per unit in CNY" in text_of(await say(world, olga, olga, "bottle"))
    # A wrong answer is explained and the question stays.
    error = await say(world, olga, olga, "twelve")
    assert "That is not a price" in text_of(error)
    assert "How many units" in text_of(await say(world, olga, olga, "12.50"))
    asked = await say(world, olga, olga, "100")
    assert "At most how many per person" in text_of(asked)
    asked = await say(world, olga, olga, "3")
    assert "Items so far: 1" in text_of(asked)
    assert asked.button_labels() == ["Add another item", "Continue"]
    asked = await _press_and_wait(
        world, olga, olga, asked.message_id, data=_data_of(asked, "Add another item")
    )
    assert "Item 2: its name?" in text_of(asked)
    await say(world, olga, olga, "Yogurt")
    await say(world, olga, olga, "cup")
    await say(world, olga, olga, "5")
    asked = await say(world, olga, olga, "50")
    assert "At most how many per person" in text_of(asked)
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)  # no limit
    assert "Items so far: 2" in text_of(asked)
    asked = await _press_and_wait(
        world, olga, olga, asked.message_id, data=_data_of(asked, "Continue")
    )
    assert "When does ordering close?" in text_of(asked)
    asked = await say(world, olga, olga, "tomorrow 18:00")
    assert "Minimum to form" in text_of(asked)
    assert "Ordering closes " in text_of(asked)  # the deadline as understood, echoed
    asked = await say(world, olga, olga, "2")  # two neighbours
    assert "Where do neighbours pick up" in text_of(asked)
    asked = await say(world, olga, olga, "Property office, gate 2")
    assert "When can they pick up" in text_of(asked)
    asked = await say(world, olga, olga, "Sat 9:00-11:00")
    assert "Do you deliver to the buyers' doors" in text_of(asked)
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)  # pick up
    assert "Cut the pickup (Sat 9:00-11:00) into slots" in text_of(asked)
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)  # no slots
    assert "Send a photo" in text_of(asked)
    asked = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)
    assert "Which buildings is it for?" in text_of(asked)
    assert asked.button_labels() == ["All buildings"]
    preview = await _press_and_wait(world, olga, olga, asked.message_id, data=SKIP)
    assert "Preview" in text_of(preview)
    assert "Fresh milk" in text_of(preview)
    assert "Milk 1L — CN¥12.50 / bottle · 100 of 100 left · max 3 per person" in text_of(preview)
    assert "Yogurt — CN¥5.00 / cup · 50 of 50 left" in text_of(preview)
    assert "Forms at 2 neighbours (0 so far)" in text_of(preview)
    assert "Pickup: Property office, gate 2, Sat 9:00-11:00" in text_of(preview)
    assert preview.button_labels() == [
        "✅ Publish",
        "Discard",
        "🔒 Group members only",
        "✏️ Edit",
    ]

    group_before = last_id(world, group)
    published = await _press_and_wait(
        world, olga, olga, preview.message_id, data=_data_of(preview, "✅ Publish")
    )
    assert "“Fresh milk” is open in Sunny Garden. · #" in text_of(published)
    post = await bot_says(world, group, group_before, "Fresh milk")
    assert "0 neighbours joined" in text_of(post)
    assert post.button_labels() == [
        "+1 Milk 1L",
        "−1",
        "+1 Yogurt",
        "−1",
        "🧾 My order",
        "Close now",
        "Cancel deal",
    ]
    return post


async def _play_the_rest(world: World, cast: Cast, post: SentMessage) -> None:
    """From the published post to the picked-up orders."""
    emu, group, post_id = world.emu, cast.group, post.message_id
    olga, ann, bob, carol, dave = cast.olga, cast.ann, cast.bob, cast.carol, cast.dave
    assert post.button_labels() == [
        "+1 Milk 1L",
        "−1",
        "+1 Yogurt",
        "−1",
        "🧾 My order",
        "Close now",
        "Cancel deal",
    ]
    milk_plus = _data_of(post, "+1 Milk 1L")
    yogurt_plus = _data_of(post, "+1 Yogurt")
    milk_minus = post.keyboard[0][1][1]
    deal_id = int(milk_plus.split(":")[1])
    milk_id = int(milk_plus.split(":")[2])
    yogurt_id = int(yogurt_plus.split(":")[2])

    # --- Ann has never started the bot: Join opens the bot through a deep link ----------
    answer = await emu.press_button(ann, group, post_id, text="+1 Milk 1L")
    assert not answer.show_alert
    assert answer.url == f"https://t.me/groupbuy_test_bot?start=j_{deal_id}_{milk_id}"
    building_q = await say(world, ann, ann, f"/start {start_payload(answer.url)}")
    assert "Welcome to Sunny Garden! Which building do you live in?" in text_of(building_q)
    assert building_q.button_labels() == ["1", "2", "3A"]
    _, unit_q = await press_for_reply(world, ann, ann, building_q.message_id, "2")
    assert "Which unit" in text_of(unit_q)
    room_q = await _press_and_wait(world, ann, ann, unit_q.message_id, data=SKIP)
    assert "Your room number?" in text_of(room_q)
    phone_q = await say(world, ann, ann, "1201")
    assert "phone number" in text_of(phone_q)
    after = last_id(world, ann)
    await emu.send_message(ann, ann, "+86 138 0000 0001")
    saved = await bot_says(world, ann, after, "Saved")
    assert "building 2, room 1201" in text_of(saved)  # the skipped unit is left out
    ann_order = await bot_says(world, ann, after, "🧾")
    assert "Milk 1L × 1 — CN¥12.50" in text_of(ann_order)
    assert "Total: CN¥12.50" in text_of(ann_order)

    # --- Bob has started the bot but has no profile yet: the same path ------------------
    welcome = await say(world, bob, bob, "/start")
    assert "Hello, Bob!" in text_of(welcome)
    answer = await emu.press_button(bob, group, post_id, text="+1 Yogurt")
    assert answer.url == f"https://t.me/groupbuy_test_bot?start=j_{deal_id}_{yogurt_id}"
    building_q = await say(world, bob, bob, f"/start {start_payload(answer.url)}")
    _, unit_q = await press_for_reply(world, bob, bob, building_q.message_id, "1")
    await say(world, bob, bob, "A")  # unit A → the room question
    phone_q = await say(world, bob, bob, "302")
    after = last_id(world, bob)
    await emu.press_button(bob, bob, phone_q.message_id, data=SKIP)
    bob_order = await bot_says(world, bob, after, "🧾")
    assert "Yogurt × 1 — CN¥5.00" in text_of(bob_order)
    assert bob_order.button_labels() == [
        "+1 Milk 1L",
        "−1",
        "+1 Yogurt",
        "−1",
        "Cancel my order",
    ]

    # --- Carol joins too ---------------------------------------------------------------------
    answer = await emu.press_button(carol, group, post_id, text="+1 Milk 1L")
    assert answer.url is not None, answer
    building_q = await say(world, carol, carol, f"/start {start_payload(answer.url)}")
    _, unit_q = await press_for_reply(world, carol, carol, building_q.message_id, "3A")
    await _press_and_wait(world, carol, carol, unit_q.message_id, data=SKIP)
    phone_q = await say(world, carol, carol, "88")
    after = last_id(world, carol)
    await emu.press_button(carol, carol, phone_q.message_id, data=SKIP)
    carol_order = await bot_says(world, carol, after, "🧾")
    assert "Milk 1L × 1 — CN¥12.50" in text_of(carol_order)

    # --- now Join presses answer with a toast ------------------------------------------------
    answer = await emu.press_button(ann, group, post_id, data=milk_plus)
    assert (answer.text, answer.show_alert, answer.url) == (
        "Milk 1L × 2 · total CN¥25.00",
        False,
        None,
    )
    answer = await emu.press_button(ann, group, post_id, data=yogurt_plus)
    assert answer.text == "Yogurt × 1 · total CN¥30.00"
    answer = await emu.press_button(ann, group, post_id, data=milk_minus)
    assert answer.text == "Milk 1L × 1 · total CN¥17.50"
    for expected in ("Milk 1L × 2 · total CN¥30.00", "Milk 1L × 3 · total CN¥42.50"):
        answer = await emu.press_button(ann, group, post_id, data=milk_plus)
        assert answer.text == expected
    # Over the per-person limit of 3: refused with an alert.
    answer = await emu.press_button(ann, group, post_id, data=milk_plus)
    assert answer.show_alert
    assert answer.text == "You already have the most allowed per person of Milk 1L (3)."

    # Bob changes his order from his private 'my order' message, which is edited in place.
    answer = await emu.press_button(bob, bob, bob_order.message_id, text="+1 Yogurt")
    assert answer.text == "Yogurt × 2 · total CN¥10.00"
    await emu.wait_until(
        lambda: (
            "Yogurt × 2 — CN¥10.00" in (emu.messages(bob)[-1].text or "")
            or any("Yogurt × 2 — CN¥10.00" in (m.text or "") for m in emu.messages(bob))
        )
    )

    # Carol cancels her order from her private message.
    answer = await emu.press_button(carol, carol, carol_order.message_id, text="Cancel my order")
    assert (answer.text, answer.show_alert) == ("Your order is cancelled.", False)

    def carol_view() -> str:
        return next(
            text_of(m) for m in emu.messages(carol) if m.message_id == carol_order.message_id
        )

    await emu.wait_until(lambda: "You have nothing in this deal yet." in carol_view())
    carol_now = next(m for m in emu.messages(carol) if m.message_id == carol_order.message_id)
    assert "Cancel my order" not in carol_now.button_labels()
    # Nothing left to remove: −1 below zero is refused.
    answer = await emu.press_button(carol, group, post_id, data=milk_minus)
    assert answer.show_alert
    assert answer.text == "You have no Milk 1L to remove."

    # --- the post's counters follow (edits are coalesced, so wait for the final form) --------
    def post_text() -> str:
        return next(m.text or "" for m in emu.messages(group) if m.message_id == post_id)

    await emu.wait_until(
        lambda: (
            "2 neighbours joined" in post_text()
            and "97 of 100 left" in post_text()
            and "47 of 50 left" in post_text()
        ),
        timeout=10,
    )
    assert "Forms at 2 neighbours (2 so far)" in post_text()

    # --- refusals: a stranger presses a leader's button; garbage and forged data -----------
    before = post_text()
    edits_before = next(m.edit_count for m in emu.messages(group) if m.message_id == post_id)
    answer = await emu.press_button(dave, group, post_id, text="Close now")
    assert (answer.text, answer.show_alert) == (LEADERS_ONLY, True)
    answer = await emu.press_button(dave, group, post_id, text="Cancel deal")
    assert (answer.text, answer.show_alert) == (LEADERS_ONLY, True)
    for garbage in ("garbage", "j:abc:1", "c:1:1:1", "Z:1:1", "x" * 64):
        answer = await emu.press_raw(dave, group, post_id, garbage)
        assert (answer.text, answer.show_alert) == (STALE, True), garbage
    answer = await emu.press_raw(ann, group, post_id, f"j:{deal_id + 999}:{milk_id}")
    # The words a deal of another group gets too (tests/e2e/test_stranger_costs.py)
    assert (
        answer.show_alert
        and answer.text == f"Deal #{deal_id + 999} is not one of this group's deals."
    )
    answer = await emu.press_raw(ann, group, post_id, f"j:{deal_id}:{yogurt_id + 999}")
    assert answer.show_alert and answer.text == "That item is not in this deal."
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
    assert deal is not None and deal.status is DealStatus.OPEN
    assert post_text() == before
    assert (
        next(m.edit_count for m in emu.messages(group) if m.message_id == post_id) == edits_before
    )

    # --- the deadline passes -------------------------------------------------------------------
    group_before = last_id(world, group)
    await world.advance(timedelta(days=2))
    notice = await bot_says(world, group, group_before, "Pickup notice: Fresh milk", timeout=10)
    assert "The deal has closed with 2 orders." in text_of(notice)
    assert "Pickup: Property office, gate 2, Sat 9:00-11:00" in text_of(notice)
    await emu.wait_until(lambda: post_text().startswith("✅ CLOSED"), timeout=10)
    assert "Orders are closed. Each buyer has a pickup code in private chat." in post_text()
    closed_post = next(m for m in emu.messages(group) if m.message_id == post_id)
    assert closed_post.button_labels() == ["📋 Pickup list", "🚚 Goods arrived"]

    ann_notice = await bot_says(world, ann, ann_order.message_id, "Your order: Fresh milk")
    bob_notice = await bot_says(world, bob, bob_order.message_id, "Your order: Fresh milk")
    for text in (text_of(ann_notice), text_of(bob_notice)):
        assert "Pickup: Property office, gate 2, Sat 9:00-11:00" in text
    assert "Milk 1L × 3 — CN¥37.50" in text_of(ann_notice)
    assert "Yogurt × 1 — CN¥5.00" in text_of(ann_notice)
    assert "Total: CN¥42.50" in text_of(ann_notice)
    assert "Yogurt × 2 — CN¥10.00" in text_of(bob_notice)
    assert "Milk" not in text_of(bob_notice)
    assert "Total: CN¥10.00" in text_of(bob_notice)
    ann_code = group_in(CODE_RE, text_of(ann_notice))
    bob_code = group_in(CODE_RE, text_of(bob_notice))
    assert ann_code != bob_code
    # Exactly once each, and nothing for Carol who cancelled, nor for Dave.
    await world.advance(timedelta(seconds=1))  # another sweep must not repeat anything
    await asyncio.sleep(0.5)  # give a duplicate the time to show up
    for user in (ann, bob):
        notices = [m for m in emu.messages(user) if "Your order: Fresh milk" in (m.text or "")]
        assert len(notices) == 1
    assert not any("Your order" in (m.text or "") for m in emu.messages(carol))
    assert not any(m.from_bot for m in emu.messages(dave))
    assert len([m for m in emu.messages(group) if "Pickup notice" in (m.text or "")]) == 1
    # A press on the closed deal is refused.
    answer = await emu.press_raw(ann, group, post_id, milk_plus)
    assert answer.show_alert and answer.text == "This deal is no longer open."

    # --- the leader's pickup list --------------------------------------------------------------
    olga_before = last_id(world, olga)
    group_before = last_id(world, group)
    await emu.send_message(olga, group, "/list")  # answered in private alone
    pdf_msg = await emu.wait_for_message(
        olga, lambda m: m.message_id > olga_before and m.document is not None
    )
    assert pdf_msg.document is not None
    assert pdf_msg.document.file_name == f"pickup-list-{deal_id}.pdf"
    assert not any(m.from_bot and m.message_id > group_before for m in emu.messages(group))
    assert "Pickup list: Fresh milk · 2 orders" in (pdf_msg.text or "")
    csv_msg = await emu.wait_for_message(
        olga,
        lambda m: m.message_id > pdf_msg.message_id and m.document is not None,
    )
    assert csv_msg.document is not None
    assert csv_msg.document.file_name == f"pickup-list-{deal_id}.csv"
    list_msg = await bot_says(world, olga, csv_msg.message_id, ann_code)
    assert bob_code in text_of(list_msg)
    assert sorted(list_msg.button_labels()) == sorted([f"✓ {ann_code}", f"✓ {bob_code}"])

    pdf = PdfReader(io.BytesIO(emu.document_bytes(olga, pdf_msg.message_id)))
    pdf_text = "\n".join(page.extract_text() for page in pdf.pages)
    for expected in (
        "Fresh milk",
        "Ann Lee",
        "Bob Brown",
        ann_code,
        bob_code,
        "CN¥42.50",
        "CN¥10.00",
        "+86 138 0000 0001",
    ):
        assert expected in pdf_text, (expected, pdf_text)
    assert "Carol" not in pdf_text
    assert _embedded_fonts(pdf), "the PDF must embed its font"

    raw = emu.document_bytes(olga, csv_msg.message_id).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:8] == ["Building", "Unit", "Room", "Name", "Phone", "Items", "Amount", "Code"]
    by_code = {row[7]: row for row in body}
    assert set(by_code) == {ann_code, bob_code}
    # Ann skipped her unit: the column is empty (not "-", nor "'-" from the formula guard).
    assert by_code[ann_code][1] == ""
    assert [by_code[ann_code][0], *by_code[ann_code][2:7]] == [
        "2",
        "1201",
        "Ann Lee",
        "+86 138 0000 0001",
        "Milk 1L ×3; Yogurt ×1",
        "CN¥42.50",
    ]
    assert by_code[bob_code][:7] == ["1", "A", "302", "Bob Brown", "", "Yogurt ×2", "CN¥10.00"]
    assert by_code[ann_code][9] == by_code[bob_code][9] == ""

    # The same list as an Excel workbook, on demand: the button under the PDF.
    assert pdf_msg.button_labels() == ["📊 Excel workbook"]
    olga_before = last_id(world, olga)
    answer = await emu.press_button(olga, olga, pdf_msg.message_id, text="📊 Excel workbook")
    assert (answer.text, answer.show_alert) == ("Making the Excel workbook…", False)
    xlsx_msg = await emu.wait_for_message(
        olga, lambda m: m.message_id > olga_before and m.document is not None
    )
    assert xlsx_msg.document is not None
    assert xlsx_msg.document.file_name == f"pickup-list-{deal_id}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(emu.document_bytes(olga, xlsx_msg.message_id)))
    assert book.sheetnames == ["Pickup list", "Picking totals", "Payments"]
    sheet = [[c.value for c in row] for row in book["Pickup list"].iter_rows()]
    assert sheet[0][:8] == [
        "Building",
        "Unit",
        "Room",
        "Name",
        "Phone",
        "Items",
        "Amount (CNY)",
        "Code",
    ]
    listed = {row[7]: row for row in sheet[1:]}
    assert listed[ann_code][:7] == [
        "2",
        None,
        "1201",
        "Ann Lee",
        "+86 138 0000 0001",
        "Milk 1L ×3; Yogurt ×1",
        42.5,
    ]
    assert listed[bob_code][:7] == ["1", "A", "302", "Bob Brown", None, "Yogurt ×2", 10]
    totals = [[c.value for c in row] for row in book["Picking totals"].iter_rows()]
    assert sorted(totals[1:]) == [["Milk 1L", 3, "bottle"], ["Yogurt", 3, "cup"]]
    # Cash at pickup: nothing is paid yet, all of it is owed.
    payments = [[c.value for c in row] for row in book["Payments"].iter_rows()]
    assert payments[0][3:6] == ["Amount (CNY)", "Amount paid (CNY)", "Amount owed (CNY)"]
    assert payments[-1][0] == "Total" and payments[-1][3:6] == [52.5, 0, 52.5]

    # The closed post's "📋 Pickup list" button: leaders only; sends the same documents again.
    answer = await emu.press_button(dave, group, post_id, text="📋 Pickup list")
    assert (answer.text, answer.show_alert) == (LEADERS_ONLY, True)
    olga_before = last_id(world, olga)
    answer = await emu.press_button(olga, group, post_id, text="📋 Pickup list")
    assert (answer.text, answer.show_alert) == ("Sent to you in private chat.", False)
    again = await emu.wait_for_message(
        olga, lambda m: m.message_id > olga_before and m.document is not None
    )
    assert again.document is not None
    assert again.document.file_name == f"pickup-list-{deal_id}.pdf"

    # --- picking up -----------------------------------------------------------------------------
    # Typed in the group, answered to the leader alone: the group hears nothing of it.
    group_before = last_id(world, group)
    done = await answered_privately(world, olga, group, f"/pickup {ann_code.lower()}", "picked up:")
    assert f"{ann_code} picked up: Ann Lee, Fresh milk." in text_of(done)
    # The community pays cash at pickup: the leader is told what to take, and it is recorded.
    assert "Collect CN¥42.50" in text_of(done)
    again = await answered_privately(world, olga, group, f"/pickup {ann_code}", "already")
    assert f"{ann_code} was already picked up at " in text_of(again)
    assert text_of(again).endswith(", handed out by Olga Leader.")
    refused = await answer_to(world, dave, group, f"/pickup {bob_code}")
    assert LEADERS_ONLY in text_of(refused)
    unknown = await answered_privately(world, olga, group, "/pickup ZZZZZ", "No order")
    assert "No order has the code ZZZZZ." in text_of(unknown)
    # Only Dave, whom the bot cannot write to (he never started it), was answered there.
    in_group = [m for m in emu.messages(group) if m.from_bot and m.message_id > group_before]
    assert [m.message_id for m in in_group] == (
        [refused.message_id] if refused.chat_id == group else []
    )
    answer = await emu.press_button(olga, olga, list_msg.message_id, text=f"✓ {bob_code}")
    assert (answer.text, answer.show_alert) == (
        f"{bob_code} marked picked up. Collect CN¥10.00",
        False,
    )
    answer = await emu.press_button(olga, olga, list_msg.message_id, text=f"✓ {bob_code}")
    assert answer.show_alert and answer.text is not None
    assert re.fullmatch(
        rf"{bob_code} was already picked up at .+, handed out by Olga Leader\.", answer.text
    )
    async with world.deps.uow() as uow:
        orders = await uow.orders.for_deal(deal_id)
    assert {o.code: o.picked_up_at is not None for o in orders} == {ann_code: True, bob_code: True}
    async with world.deps.uow() as uow:
        received = [p.amount for p in await uow.payments.for_deal(deal_id)]
    assert sorted(received) == [1000, 4250]  # the cash taken at the table, recorded once each

    # --- the bot never sent Telegram an invalid request ----------------------------------------
    assert_no_bad_requests(world, allowed_403={ann, bob, carol, dave})


async def test_the_whole_story(world: World) -> None:
    cast = await _set_up(world)
    post = await _open_deal_by_dialog(world, cast)
    await _play_the_rest(world, cast, post)


async def test_the_story_with_a_one_message_deal(world: World) -> None:
    """The same story after a deal published with the one-message format (no dialog)."""
    cast = await _set_up(world)
    after = last_id(world, cast.group)
    await world.emu.send_message(cast.olga, cast.group, ONE_MESSAGE_DEAL)
    post = await bot_says(world, cast.group, after, "Fresh milk")
    assert "Milk 1L — CN¥12.50 / bottle · 100 of 100 left · max 3 per person" in text_of(post)
    await _play_the_rest(world, cast, post)


def _embedded_fonts(pdf: PdfReader) -> list[str]:
    names = []
    for page in pdf.pages:
        resources = page["/Resources"]
        assert isinstance(resources, DictionaryObject), resources
        fonts = resources["/Font"]
        assert isinstance(fonts, DictionaryObject), fonts
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            targets = [d.get_object() for d in descendants] if descendants else [font]
            for target in targets:
                desc = target.get("/FontDescriptor")
                if desc is None:
                    continue
                desc = desc.get_object()
                if any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.append(str(target.get("/BaseFont")))
    return names


def assert_no_bad_requests(world: World, *, allowed_403: set[int]) -> None:
    """Every failed Bot API request is an expected one: 'not modified' or a user not started."""
    bad = []
    for entry in world.emu.requests_log:
        if entry.ok:
            continue
        error = entry.error or ""
        if "message is not modified" in error:
            continue
        chat = entry.params.get("chat_id")
        if "Forbidden" in error and chat is not None and int(chat) in allowed_403:
            continue
        bad.append((entry.method, error, entry.params))
    assert not bad, bad
