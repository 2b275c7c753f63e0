"""Callback data: short, typed, validated. Never trusted for authority, only as a pointer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from groupbuy.parsing import ID_MAX


class Op(StrEnum):
    JOIN = "j"  # +1 of an item (the Join button and +1)
    LESS = "m"  # −1 of an item
    MINE = "o"  # show my order
    CANCEL_ORDER = "x"  # cancel my order
    CLOSE = "c"  # leader: close now (asks first)
    CONFIRM_CLOSE = "C"  # leader: yes, close it now
    CANCEL_DEAL = "k"  # leader: cancel the deal
    CONFIRM_CANCEL = "K"  # leader: yes, cancel it
    LIST = "l"  # leader: pickup list
    PICKED = "p"  # leader: mark an order picked up (arg: order id)
    BUILDING = "b"  # profile dialog: building chosen (arg: index in the community's list)
    SKIP = "s"  # dialog: skip an optional step
    PUBLISH = "P"  # new deal dialog: publish the preview
    DISCARD = "D"  # new deal dialog: discard
    LANG = "L"  # /lang choice (arg: index in LOCALES)
    BACK = "B"  # leader: back from a confirmation (arg 1: the arrival's; else the deal stays open)
    CLAIM_PAID = "I"  # resident: "I have paid" the leader
    PAYEE_CODE = "Q"  # resident: show the leader's collection code, with the amount owed
    CONFIRM_PAYMENT = "Y"  # leader: the reported payment arrived (arg: payment id)
    REJECT_PAYMENT = "N"  # leader: it did not (arg: payment id)
    REFUND_MADE = "R"  # leader: I made this refund (arg: refund id)
    REMIND_UNPAID = "U"  # leader: remind everyone who has not paid
    PAY_MODE = "M"  # leader: the community's payment mode (arg: index)
    LEADER = "A"  # anonymous admin reveals themselves to continue in private
    OPEN_LINK = "O"  # new deal dialog: who may join with the link (arg 1: anyone, 0: members)
    EDIT = "E"  # new deal dialog: change a field from the preview (arg: handlers.newdeal.EDITABLE)
    WORKBOOK = "W"  # leader: the pickup list as an Excel workbook (under the list's PDF)
    REMIND_PICKUP = "T"  # leader: remind everyone whose order still waits (under /noshows)
    LATER = "H"  # leader: a line of an order just handed out is held back (arg: order, also: item)
    ARRIVED = "g"  # leader: the goods are here (asks first, under the closed post)
    CONFIRM_ARRIVED = "G"  # leader: yes, tell every buyer still to pick up
    NO_SHOW = "n"  # leader: an order nobody came for, and what may be decided (arg: order)
    DECIDE_NO_SHOW = "d"  # leader: decided (arg: order, also: handlers.no_shows.OUTCOMES)
    CHOOSE_POINT = "v"  # resident: collect my order at this pickup point (arg: point)
    POINT_MAP = "V"  # resident: the pickup point's map location (arg: point)
    REMOVE_POINT = "r"  # leader: new deals no longer offer this pickup point (arg: point)
    BOOK_SLOT = "S"  # resident: my order is picked up in this slot (arg: slot)
    DELIVERY = "y"  # resident: deliver my order to my door (arg 1), or I pick it up (arg 0)
    SHORTFALL = "F"  # leader: /shortfall's plan (arg: handlers.shortfall's CANCEL, APPLY, …)
    REORDER = "e"  # resident: order again what I bought in this deal (groupbuy.reorder)
    WATCH = "w"  # resident: tell me when what I bought in this deal is open again


# The operations whose buttons name a second thing (`Callback.also`): an order's item, what
# is decided for it, or the shortfall plan shown (its token: an older plan's buttons are stale).
NAMES_TWO = frozenset({Op.LATER, Op.DECIDE_NO_SHOW, Op.SHORTFALL})


@dataclass(frozen=True, slots=True)
class Callback:
    op: Op
    deal: int = 0
    arg: int = 0
    also: int = 0  # a second thing the button names (an order's item), written only when set

    def pack(self) -> str:
        data = f"{self.op.value}:{self.deal}:{self.arg}"
        if self.also:
            data += f":{self.also}"
        assert len(data.encode()) <= 64
        return data


# ASCII digits only, and within a row id's range on every database: a forged "j:99999999999:1"
# must be refused here, not reach PostgreSQL's INTEGER columns and fail there.
_RE = re.compile(r"^([A-Za-z]):([0-9]{1,10}):(-?[0-9]{1,10})(?::([1-9][0-9]{0,9}))?$")


def unpack(data: str) -> Callback | None:
    """None for anything we did not produce: garbage, forged or from an older version."""
    match = _RE.match(data)
    if match is None:
        return None
    try:
        op = Op(match.group(1))
    except ValueError:
        return None
    deal, arg, also = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
    if deal > ID_MAX or abs(arg) > ID_MAX or also > ID_MAX:
        return None
    if (also != 0) != (op in NAMES_TWO):  # the third number where we write one, only
        return None
    return Callback(op, deal, arg, also)
