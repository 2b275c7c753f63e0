"""The route table: every button, command and deep link has an entry (an operation without one
fails here), the router dispatches through it, and docs/security.md prints it as it is."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.callbacks import Op
from handlers.router import BUTTONS, COMMANDS, DEEP_LINKS, operations

SECURITY = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_every_op_has_a_route() -> None:
    assert set(BUTTONS) == set(Op)


def test_every_route_says_where_it_may_be_used() -> None:
    for table in (BUTTONS, COMMANDS, DEEP_LINKS):
        for name, route in table.items():
            assert route.group is not None or route.private is not None, name


def test_deep_links_are_private_only() -> None:
    assert all(route.group is None for route in DEEP_LINKS.values())


def test_the_documented_table_is_the_route_table() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    match = re.search(r"<!-- operations:.*?-->\n(.*?)<!-- /operations -->", text, re.S)
    assert match is not None, "docs/security.md lost its table of operations"
    documented = [line for line in match.group(1).splitlines() if line.startswith("| ")]
    assert documented[2:] == operations(), (
        "docs/security.md differs from handlers/router.py: paste operations() into its table"
    )
