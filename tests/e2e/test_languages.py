"""Each person reads the bot in their language: Telegram's language_code, or their /lang choice.

Expected Chinese texts come from the zh_Hans catalogue (so this checks that the right language
reaches each person, and that every text shown has a translation), not from copies here.
"""

from __future__ import annotations

import re
from datetime import timedelta

from messages.formatting import money
from messages.i18n import translations
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Fresh milk
Item: Milk 1L | bottle | 12.50 | 100 | 2
Deadline: tomorrow 20:00
Pickup: Property office
Window: Sat 9:00-11:00"""
CJK = re.compile(r"[\u4e00-\u9fff]")


def zh_n(singular: str, plural: str, n: int, **params: object) -> str:
    """The Chinese of a counted text (its plural forms); `num` is the count, as in templates."""
    text = translations("zh_Hans").ngettext(singular, plural, n)
    assert text not in (singular, plural) and CJK.search(text), f"no Chinese for {singular!r}"
    return text % {"num": n, **params}


def zh(msgid: str, *, same: bool = False, **params: object) -> str:
    """The Chinese of an English source text; fails if it has no translation (unless `same`)."""
    text = translations("zh_Hans").gettext(msgid)
    assert same or (text != msgid and CJK.search(text)), f"no Chinese for {msgid!r}"
    return text % params if params else text


def _text(world: World, chat: int, message_id: int) -> str:
    return next(m.text or "" for m in world.emu.messages(chat) if m.message_id == message_id)


async def test_each_resident_in_their_language(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join, less = post.keyboard[0][0][1], post.keyboard[0][1][1]
    assert post.button_labels()[0] == "🛒 Join +1"  # the group's language is its founder's

    wei = await emu.add_user("Wei", language_code="zh-hans")
    ann = await emu.add_user("Ann", language_code="en")
    for user in (wei, ann):
        await emu.add_member(group, user)

    # Wei's whole profile dialog is in Chinese.
    answer = await emu.press_button(wei, group, post.message_id, data=join)
    assert answer.url is not None
    ask = await say(world, wei, wei, f"/start {answer.url.split('start=')[1]}")
    assert ask.text == zh(
        "Welcome to %(name)s! Which building do you live in?", name="Sunny Garden"
    )
    after = last_id(world, wei)
    await emu.press_button(wei, wei, ask.message_id, text="2")
    unit_q = await bot_says(world, wei, after)
    assert unit_q.text == zh("Which unit (entrance)? Tap Skip if your building has none.")
    assert unit_q.button_labels() == [zh("Skip")]
    after = last_id(world, wei)
    await emu.press_button(wei, wei, unit_q.message_id, text=zh("Skip"))
    room_q = await bot_says(world, wei, after)
    assert room_q.text == zh("Your room number?")
    phone_q = await say(world, wei, wei, "501")
    assert phone_q.text == zh("A phone number for the leader (optional)?")
    after = last_id(world, wei)
    await emu.press_button(wei, wei, phone_q.message_id, text=zh("Skip"))
    wei_order = await bot_says(world, wei, after, "🧾")
    assert zh("Total: %(total)s", total=money(1250, "CNY", "zh_Hans")) in text_of(wei_order)
    assert zh("You can change or cancel until the deadline.") in text_of(wei_order)
    assert zh("Cancel my order") in wei_order.button_labels()
    assert zh("+1 %(name)s", same=True, name="Milk 1L") in wei_order.button_labels()

    ann_order = await become_resident(world, ann, group, post.message_id, join)
    assert "Total: CN¥12.50" in text_of(ann_order)
    assert not CJK.search(text_of(ann_order))
    assert "Cancel my order" in ann_order.button_labels()

    # Toasts and alerts, each in the presser's language, on the same (English) group post.
    answer = await emu.press_button(wei, group, post.message_id, data=join)
    assert answer.text == zh(
        "%(name)s × %(q)s · total %(total)s",
        name="Milk 1L",
        q=2,
        total=money(2500, "CNY", "zh_Hans"),
    )
    answer = await emu.press_button(wei, group, post.message_id, data=join)
    assert answer.show_alert
    assert answer.text == zh(
        "You already have the most allowed per person of %(item)s (%(limit)s).",
        item="Milk 1L",
        limit=2,
    )
    answer = await emu.press_button(wei, group, post.message_id, text="Close now")
    assert answer.text == zh("Only the group's admins (leaders) can do that.")
    answer = await emu.press_raw(wei, group, post.message_id, "nonsense")
    assert answer.text == zh("This button is out of date.")
    answer = await emu.press_button(ann, group, post.message_id, data=join)
    assert answer.text == "Milk 1L × 2 · total CN¥25.00"
    answer = await emu.press_button(ann, group, post.message_id, data=less)
    assert answer.text == "Milk 1L × 1 · total CN¥12.50"
    answer = await emu.press_raw(ann, group, post.message_id, "nonsense")
    assert answer.text == "This button is out of date."

    # Pickup notices at the deadline.
    await world.advance(timedelta(days=2))
    wei_notice = await bot_says(world, wei, wei_order.message_id, "🔑", timeout=10)
    assert zh("Your order: %(title)s", title="Fresh milk") in text_of(wei_notice)
    assert zh("Total: %(total)s", total=money(2500, "CNY", "zh_Hans")) in text_of(wei_notice)
    assert zh(
        "Pickup: %(place)s, %(window)s", place="Property office", window="Sat 9:00-11:00"
    ) in text_of(wei_notice)
    ann_notice = await bot_says(world, ann, ann_order.message_id, "🔑", timeout=10)
    assert "Your order: Fresh milk" in text_of(ann_notice)
    assert "Total: CN¥12.50" in text_of(ann_notice)
    assert not CJK.search(text_of(ann_notice))


async def test_lang_switches_a_person_and_a_group(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    ann = await emu.add_user("Ann", language_code="en")
    mei = await emu.add_user("Mei", language_code="zh-hans")
    for user in (ann, mei):
        await emu.add_member(group, user)

    # Ann (English) chooses Chinese.
    chooser = await say(world, ann, ann, "/lang")
    assert chooser.text == "Choose a language:"
    assert chooser.button_labels() == ["English", "简体中文"]
    after = last_id(world, ann)
    answer = await emu.press_button(ann, ann, chooser.message_id, text="简体中文")
    assert not answer.show_alert
    done = await bot_says(world, ann, after)
    assert done.text == "✅ " + zh("Language set to English.")
    welcome = await say(world, ann, ann, "/start")
    assert text_of(welcome).startswith(
        "👋 " + zh("Hello, %(name)s! I run your compound's group buys.", name="Ann")
    )

    # Mei (Chinese by Telegram) chooses English.
    chooser = await say(world, mei, mei, "/lang")
    assert chooser.text == zh("Choose a language:")
    after = last_id(world, mei)
    await emu.press_button(mei, mei, chooser.message_id, text="English")
    assert (await bot_says(world, mei, after)).text == "✅ Language set to English."
    welcome = await say(world, mei, mei, "/start")
    assert text_of(welcome).startswith("👋 Hello, Mei!")

    # Their choices hold for presses in the group too.
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    await become_resident(world, ann, group, post.message_id, join)
    await become_resident(world, mei, group, post.message_id, join)
    answer = await emu.press_button(ann, group, post.message_id, data=join)
    assert answer.text == zh(
        "%(name)s × %(q)s · total %(total)s",
        name="Milk 1L",
        q=2,
        total=money(2500, "CNY", "zh_Hans"),
    )
    answer = await emu.press_button(mei, group, post.message_id, data=join)
    assert answer.text == "Milk 1L × 2 · total CN¥25.00"

    # /lang in the group: only a leader may change the group's language.
    chooser = await say(world, mei, group, "/lang")
    answer = await emu.press_button(mei, group, chooser.message_id, text="简体中文")
    assert answer.show_alert
    assert answer.text == "Only the group's admins (leaders) can do that."
    after = last_id(world, group)
    answer = await emu.press_button(olga, group, chooser.message_id, text="简体中文")
    assert not answer.show_alert
    assert (await bot_says(world, group, after)).text == "✅ " + zh("Language set to English.")
    # The deal post is refreshed in the group's new language at its next change...
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][1][1])
    await emu.wait_until(
        lambda: (
            zh_n("%(num)s neighbour joined", "%(num)s neighbours joined", 2)
            in _text(world, group, post.message_id)
        ),
        timeout=10,
    )
    edited = next(m for m in emu.messages(group) if m.message_id == post.message_id)
    assert edited.button_labels()[0] == zh("🛒 Join +1")
    # ...and new posts are in Chinese.
    post2 = await publish_one_message(world, olga, group, DEAL.replace("Fresh milk", "Eggs"))
    assert post2.button_labels()[0] == zh("🛒 Join +1")
    assert zh_n("%(num)s neighbour joined", "%(num)s neighbours joined", 0) in text_of(post2)
