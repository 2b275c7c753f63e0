"""Plain, framework-free input model for the printable pickup list (提货单).

Every visible word comes in already translated (``PickupListLabels``) and every
amount comes in already formatted for the locale, so the renderers never need
Babel, gettext, Telegram or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PickupLine:
    """One item in an order, e.g. ``PickupLine("鲜牛奶", 2, "瓶")``."""

    item: str
    quantity: int
    unit: str = ""


@dataclass(frozen=True, slots=True)
class PickupRow:
    """One resident's order."""

    building: str
    unit: str
    room: str
    name: str
    phone: str | None
    lines: tuple[PickupLine, ...]
    amount: str
    """Already formatted for the locale, e.g. ``"¥37.50"``."""
    code: str
    """Short pickup code, e.g. ``"K7P2"``."""
    payment: str = ""
    """Already localised payment state, e.g. ``"已付"``; may be empty."""
    collect: bool = False
    """``payment`` is cash to take at the table: the PDF prints it large, in black."""
    picked_up: bool = False
    handed_out_at: str = ""
    """When it was handed out, formatted for the locale, e.g. ``"Sat 6 Dec, 09:42"``."""
    handed_out_by: str = ""
    """Who handed it out (a leader's name)."""
    amount_value: Decimal | None = None
    """``amount`` as a number in the list's currency (major units), for spreadsheets."""
    owed_value: Decimal | None = None
    """What is still to be paid of it (major units): 0 when paid in full."""
    held_back: tuple[PickupLine, ...] = ()
    """Handed out in part: the lines still to hand out (``picked_up`` is False until then)."""
    point: str = ""
    """The pickup point it is collected at, when the deal offers points (its name)."""

    @property
    def address(self) -> str:
        """Building, unit and room as the chat list shows them: "3-1-302", the empty parts
        left out."""
        return "-".join(part for part in (self.building, self.unit, self.room) if part)


@dataclass(frozen=True, slots=True)
class ItemTotal:
    """Picking total for one item across all orders."""

    item: str
    quantity: int
    unit: str = ""


@dataclass(frozen=True, slots=True)
class PickupListLabels:
    """Every visible word, already translated by the caller.

    Format fields:

    * ``page`` may use ``{page}`` and ``{pages}``, e.g. ``"Page {page} of {pages}"``
      or ``"第 {page} 页 / 共 {pages} 页"``.
    * ``building_heading`` may use ``{building}`` and ``{count}``, e.g.
      ``"Building {building} · orders: {count}"`` or ``"{building} · {count} 单"``.
    * ``total_orders`` is printed as ``"{total_orders}: {n}"``; it may instead
      contain ``{count}`` to place the number itself, e.g. ``"共 {count} 单"``.

    ``generated_at`` is the complete, already formatted text printed in the
    footer (e.g. ``"Generated 2024-06-01 08:00"``); it may be empty.
    """

    title: str
    building: str
    unit: str
    room: str
    name: str
    items: str
    amount: str
    code: str
    payment: str
    picked: str
    totals: str
    total_orders: str
    page: str = "{page} / {pages}"
    generated_at: str = ""
    phone: str = "Phone"
    empty: str = "No orders"
    quantity: str = "Qty"
    measure: str = ""
    """Header of the totals table's unit-of-measure column (e.g. "Unit" / "单位")."""
    building_heading: str = "{building} · {count}"
    picked_mark: str = "✓"
    """Written in the CSV *picked* column for picked-up orders (empty otherwise)."""
    window: str = ""
    """Optional prefix for the pickup window in the page header, e.g. "时间"."""
    place: str = ""
    """Optional prefix for the pickup place in the page header, e.g. "地点"."""
    payments: str = "Payments"
    """The workbook's payments sheet: its name."""
    address: str = "Address"
    paid: str = "Amount paid"
    owed: str = "Amount owed"
    sum_total: str = "Total"
    """The payments sheet's last row, the sums."""
    point: str = "Pickup point"
    """The CSV's and the workbook's column of each order's pickup point (deals with points)."""
    delivery: str = "Delivery"
    """The 'point' of the orders the leader delivers (the delivery list), e.g. "送货上门"."""
    delivery_place: str = "Delivered by the leader"
    """The delivery list's place, in its header."""


@dataclass(frozen=True, slots=True)
class PickupList:
    deal_title: str
    community: str
    pickup_place: str
    pickup_window: str
    labels: PickupListLabels
    rows: tuple[PickupRow, ...] = ()
    totals: tuple[ItemTotal, ...] = field(default=())
    """Picking totals per item, in the order they should be printed. Use
    :func:`messages.pickup_list.compute_totals` to derive them from ``rows``."""
    currency: str = ""
    """ISO 4217 code of the rows' ``amount_value`` (e.g. ``"CNY"``), named in the workbook."""
    currency_digits: int = 2
    """Digits after the decimal point of that currency (0 for yen or Telegram Stars)."""

    @property
    def has_points(self) -> bool:
        """Its orders are collected at pickup points: the CSV and workbook name each one's."""
        return any(r.point for r in self.rows)
