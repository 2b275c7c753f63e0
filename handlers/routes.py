"""What a route says about itself: what it loads from the ids it carries, and who may use it.

Every operation a person can start (a button's Op, a command, a deep link) has one `Route` in
the tables of handlers/router.py, which dispatches through them. docs/security.md's table of
operations is these tables, printed (`route_rows`); tests/unit/test_routes.py keeps the two the
same and refuses an operation without an entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from handlers.actions import Action


class Loads(Enum):
    """What the ids of a route are resolved to, from the database (handlers/authority.py)."""

    DEAL = "the deal"
    DEAL_ORDER = "the deal, and an order of it"
    DEAL_PAYMENT = "the deal, and a payment of it"
    DEAL_REFUND = "the deal, and a refund of it"
    DEAL_NAMED_OR_NEWEST = "the deal named, or the group's newest"
    POINT = "the pickup point, and its group"
    GROUP = "the group it is used in"
    GROUP_NAMED = "the group the link names"
    LED_GROUPS = "the groups the bot's record has them leading"
    OWN = "their own dialog, orders, profile or language"
    NOTHING = "nothing"


class Needs(Enum):
    """Who may use a route: checked by the function named, in the unit of work that acts."""

    LEADER = "an admin of the deal's group (`as_leader`; `as_leader_named` for the newest)"
    GROUP_LEADER = "an admin of that group (`as_group_leader`)"
    RECORDED_LEADER = "in the bot's admin record, then confirmed (`led_communities`)"
    RESIDENT_JOIN = (
        "a member of the deal's group; anyone if the deal is open to the link (`as_resident`, JOIN)"
    )
    RESIDENT_SEE = "a member of the deal's group, or a buyer in the deal (`as_resident`, SEE)"
    RESIDENT_CHANGE = "a buyer in the deal (their own order), or a member (`as_resident`, CHANGE)"
    SELF = "anyone, for themselves only"


Serve = TypeVar("Serve", bound=Callable[..., Awaitable[list[Action]]])


@dataclass(frozen=True, slots=True)
class Access:
    loads: Loads
    needs: Needs


@dataclass(frozen=True, slots=True)
class Route(Generic[Serve]):
    """`group`, `private`: what the route loads and needs when used there; None where it only
    answers how to use it (or, for /start in a group, nothing)."""

    serve: Serve
    group: Access | None
    private: Access | None


def route_rows(tables: Iterable[tuple[str, Mapping[str, Route[Any]]]]) -> list[str]:
    """The routes as the rows of docs/security.md's table of operations."""
    rows = []
    for kind, table in tables:
        for name, route in table.items():
            for place, access in (("group", route.group), ("private", route.private)):
                if access is not None:
                    rows.append(
                        f"| {kind} `{name}` | {place} | {access.loads.value} "
                        f"| {access.needs.value} |"
                    )
    return rows
