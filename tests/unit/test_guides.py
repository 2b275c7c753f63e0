"""The user guides (docs/guide/) stay true to the code: their one-message deals are accepted as
written, every picture they show exists, and each guide links to its other language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from groupbuy.deal_text import parse_deal
from handlers.router import COMMANDS

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guide"
NAMES = ["leaders.md", "leaders.zh.md", "residents.md", "residents.zh.md"]
SUNDAY = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai


def text(name: str) -> str:
    return (GUIDES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("leaders")])
def test_the_one_message_deal_is_accepted_as_written(name: str) -> None:
    [block] = re.findall(r"```\n(/newdeal\n.*?)```", text(name), re.S)
    spec = parse_deal(
        block.removeprefix("/newdeal\n"), "CNY", ("1", "2", "3"), SUNDAY, ZoneInfo("Asia/Shanghai")
    )
    assert spec.deadline == datetime(2026, 12, 11, 12, 0, tzinfo=UTC)  # Friday 20:00 there
    assert [(i.price, i.stock, i.limit) for i in spec.items] == [(4500, 30, 3)]


@pytest.mark.parametrize("name", NAMES)
def test_every_picture_exists_and_the_other_language_is_linked(name: str) -> None:
    body = text(name)
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert pictures, "a guide shows the sandbox"
    for picture in pictures:
        assert (GUIDES / picture).resolve().is_file(), picture
    other = name.replace(".zh.md", ".md") if ".zh." in name else name.replace(".md", ".zh.md")
    assert f"({other})" in body


@pytest.mark.parametrize("name", NAMES)
def test_the_commands_named_are_the_bots(name: str) -> None:
    named = set(re.findall(r"`/([a-z]+)", text(name)))
    assert named and named <= set(COMMANDS), named - set(COMMANDS)
