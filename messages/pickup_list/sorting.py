"""Natural ("human") ordering of buildings, units and rooms."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from .model import ItemTotal, PickupRow

_CHUNKS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[int, int, str], ...]


@functools.lru_cache(maxsize=65536)
def natural_key(text: str) -> NaturalKey:
    """Key that sorts ``"2" < "3" < "3A" < "10" < "B"``, case-insensitively.

    Digit runs compare as numbers and come before letters; a shorter prefix
    comes first (so ``"3"`` before ``"3A"``). Full-width digits count as digits.
    Remembered: a 10k-order list has a few dozen buildings, units and rooms, each
    sorted on thousands of rows (twice: the list and the PDF's buildings).
    """
    parts: list[tuple[int, int, str]] = []
    for i, chunk in enumerate(_CHUNKS.split(text.strip())):
        if not chunk:
            continue
        if i % 2:  # odd positions are the captured digit runs
            parts.append((0, int(chunk), ""))
        else:
            parts.append((1, 0, chunk.casefold()))
    return tuple(parts)


def row_sort_key(row: PickupRow) -> tuple[NaturalKey, NaturalKey, NaturalKey, str, str, str]:
    return (
        natural_key(row.building),
        natural_key(row.unit),
        natural_key(row.room),
        row.building,  # ties ("01" vs "1") broken deterministically
        row.name,
        row.code,
    )


def sort_rows(rows: Iterable[PickupRow]) -> list[PickupRow]:
    """Rows ordered by building, unit, room (natural order), then name and code."""
    return sorted(rows, key=row_sort_key)


def group_by_building(rows: Iterable[PickupRow]) -> list[tuple[str, list[PickupRow]]]:
    """Sort ``rows`` and group them by building, keeping the natural order."""
    groups: list[tuple[str, list[PickupRow]]] = []
    for row in sort_rows(rows):
        if groups and groups[-1][0] == row.building:
            groups[-1][1].append(row)
        else:
            groups.append((row.building, [row]))
    return groups


def compute_totals(rows: Iterable[PickupRow]) -> tuple[ItemTotal, ...]:
    """Sum quantities per (item, unit), in order of first appearance."""
    sums: dict[tuple[str, str], int] = {}
    for row in rows:
        for line in row.lines:
            key = (line.item, line.unit)
            sums[key] = sums.get(key, 0) + line.quantity
    return tuple(ItemTotal(item, qty, unit) for (item, unit), qty in sums.items())
