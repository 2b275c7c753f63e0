"""Money as integers in the currency's minor unit; prices typed by people are parsed exactly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from groupbuy.errors import InputError
from groupbuy.parsing import typed_digits

# Telegram Stars are not ISO 4217; Telegram documents them with exponent 0.
_EXPONENT_OVERRIDES = {"XTR": 0}

# A group-buy price above this many major units is certainly a typo (1e9 would be one).
MAX_PRICE_MAJOR = 100_000

_CURRENCY_SIGNS = "¥￥$€£₩₽元圆块"
_FULL_WIDTH_MARKS = str.maketrans("．，", ".,")
_PRICE_RE = re.compile(r"^(?P<int>[0-9]{1,9})(?:[.,](?P<frac>[0-9]{1,4}))?$")


def exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (ISO 4217; JPY 0, CNY 2, XTR 0)."""
    code = currency.upper()
    if code in _EXPONENT_OVERRIDES:
        return _EXPONENT_OVERRIDES[code]
    return int(get_currency_precision(code))


def is_known_currency(currency: str) -> bool:
    from babel.numbers import list_currencies

    code = currency.upper()
    return code in _EXPONENT_OVERRIDES or code in list_currencies()


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("currency mismatch")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def as_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))


def parse_price(text: str, currency: str) -> int:
    """Parse '12.5', '¥12.50', '12,50', 'CNY 12.50', '12元' into minor units; refuse the rest."""
    # Digits as every typed number reads them (groupbuy.parsing.typed_digits), and the
    # full-width point and comma a full-width input mode types with them.
    cleaned = typed_digits(text).translate(_FULL_WIDTH_MARKS).strip()
    cleaned = cleaned.replace(" ", "").replace("\u00a0", "")
    cleaned = re.sub(rf"^{re.escape(currency)}|{re.escape(currency)}$", "", cleaned, flags=re.I)
    cleaned = cleaned.strip(_CURRENCY_SIGNS)
    if exponent(currency) != 3 and re.fullmatch(r"[0-9]{1,3},[0-9]{3}", cleaned):
        raise InputError("price_invalid")  # '1,000': a thousands separator or a decimal comma?
    match = _PRICE_RE.match(cleaned)
    if match is None:
        raise InputError("price_invalid")
    frac = match.group("frac") or ""
    digits = exponent(currency)
    if len(frac.rstrip("0")) > digits:
        raise InputError("price_too_precise", digits=digits)
    try:
        value = Decimal(f"{match.group('int')}.{frac or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees digits
        raise InputError("price_invalid") from exc
    if value <= 0:
        raise InputError("price_not_positive")
    if value > MAX_PRICE_MAJOR:
        raise InputError("price_too_large", limit=MAX_PRICE_MAJOR)
    return int(value.scaleb(digits))
