"""What people type, read one way everywhere: every number reader takes ASCII and full-width
digits alike and refuses other scripts' digits; every free text loses its control characters.
And whose updates wait for whose: people posting as a chat are told apart by that chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from groupbuy import limits, parsing
from groupbuy.errors import InputError
from groupbuy.money import parse_price
from handlers.events import Chat, MessageIn, Person, Press, serial_key
from handlers.profile import _accept

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")

READERS: dict[str, Callable[[str], object]] = {
    "positive_int": lambda t: parsing.positive_int(t, 100),
    "object_id": lambda t: parsing.object_id(t),
    "group_chat_id": lambda t: parsing.group_chat_id(t),
    "price": lambda t: parse_price(t, "CNY"),
    "deadline": lambda t: parsing.deadline(f"tomorrow {t}:30", NOW, SHANGHAI),
    "phone": lambda t: _accept("phone", f"+86 {t}", ()),
}


def _read(reader: Callable[[str], object], text: str) -> object:
    value = reader(text)
    if value is None:  # number_or_none's way of saying no
        raise InputError("int_invalid")
    return value


@pytest.mark.parametrize("name", READERS)
def test_full_width_digits_read_as_ascii(name: str) -> None:
    reader = READERS[name]
    assert _read(reader, "１２") == _read(reader, "12")


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize("digits", ["١٢", "۱۲", "१२", "¹²", "①②", "𝟏𝟐"])
def test_other_scripts_digits_are_refused(name: str, digits: str) -> None:
    with pytest.raises(InputError):
        _read(READERS[name], digits)


def test_number_or_none_reads_the_same() -> None:
    assert parsing.number_or_none("３", 10) == 3
    assert parsing.number_or_none("٣", 10) is None


def test_a_full_width_price_with_its_point() -> None:
    assert parse_price("１２．５０", "CNY") == 1250
    assert parse_price("￥８", "CNY") == 800


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_dropped_from_free_text(control: str) -> None:
    assert parsing.bounded_text(f"Ly{control}chees", limits.TITLE_MAX) == "Lychees"
    assert parsing.buildings(f"1{control}, 2") == ("1", "2")
    assert _accept("room", f"10{control}1", ()) == "101"


def test_newlines_stay_and_tabs_are_spaces() -> None:
    assert parsing.bounded_text("a\r\nb\tc", 20) == "a\nb c"
    assert parsing.bounded_text("a\tb", 20) == "a b"


def test_a_text_of_control_characters_only_is_empty() -> None:
    with pytest.raises(InputError) as refused:
        parsing.bounded_text("\x00\x07", limits.TITLE_MAX, key="title")
    assert refused.value.key == "text_empty"


GROUP_A, GROUP_B = Chat(-1001, "supergroup"), Chat(-1002, "supergroup")
STAND_IN = Person(1087968824, "Group")  # Telegram's GroupAnonymousBot
CHANNEL_BOT = Person(136817688, "Channel")


def test_people_posting_as_a_chat_do_not_share_one_queue() -> None:
    as_a = MessageIn(GROUP_A, STAND_IN, 1, "/list", anonymous_admin=True, sender_chat_id=-1001)
    as_b = MessageIn(GROUP_B, STAND_IN, 1, "/list", anonymous_admin=True, sender_chat_id=-1002)
    channel_1 = MessageIn(GROUP_A, CHANNEL_BOT, 2, "hi", sender_chat_id=-1009)
    channel_2 = MessageIn(GROUP_A, CHANNEL_BOT, 3, "hi", sender_chat_id=-1008)
    keys = {serial_key(m) for m in (as_a, as_b, channel_1, channel_2)}
    assert len(keys) == 4


def test_a_persons_updates_share_one_queue_wherever_they_come_from() -> None:
    ann = Person(7, "Ann")
    in_group = MessageIn(GROUP_A, ann, 1, "/list")
    in_private = MessageIn(Chat(7, "private"), ann, 2, "12")
    press = Press("q", ann, GROUP_B, 3, "j:1:1")
    assert serial_key(in_group) == serial_key(in_private) == serial_key(press)
