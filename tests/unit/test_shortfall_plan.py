"""How a shortfall is shared out (groupbuy.shortfall): by join order or pro rata, drawn at
random: exactly what arrived is given out, nobody gets more than they ordered, the earlier
orders keep theirs by join order, and pro rata nobody is more than a unit from their share."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from groupbuy.allotment import _by_join_order, _pro_rata

WANTED = st.lists(st.integers(1, 20), min_size=1, max_size=15)


@given(wanted=WANTED, data=st.data())
def test_by_join_order_the_first_keep_theirs(wanted: list[int], data: st.DataObject) -> None:
    arrived = data.draw(st.integers(0, sum(wanted)))
    shares = _by_join_order(wanted, arrived)
    assert sum(shares) == arrived
    assert all(0 <= s <= w for s, w in zip(shares, wanted, strict=True))
    short = [n for n, (s, w) in enumerate(zip(shares, wanted, strict=True)) if s < w]
    if short:  # one order cut in part at most, and everyone after it gets nothing
        assert all(shares[n] == 0 for n in short[1:])
        assert all(shares[n] == wanted[n] for n in range(short[0]))


@given(wanted=WANTED, data=st.data())
def test_pro_rata_everyone_within_a_unit_of_their_share(
    wanted: list[int], data: st.DataObject
) -> None:
    arrived = data.draw(st.integers(0, sum(wanted)))
    shares = _pro_rata(wanted, arrived)
    assert sum(shares) == arrived
    for share, want in zip(shares, wanted, strict=True):
        exact = Fraction(want * arrived, sum(wanted))
        assert 0 <= share <= want
        assert exact - 1 < share < exact + 1


def test_pro_rata_ties_go_to_the_earlier_order() -> None:
    # 3 of 6 arrived: 1.5, 1 and 0.5; the bottle left over goes to the first of the two halves.
    assert _pro_rata([3, 2, 1], 3) == [2, 1, 0]
    assert _pro_rata([1, 2, 3], 3) == [1, 1, 1]
    assert _pro_rata([2, 4, 2], 4) == [1, 2, 1]
