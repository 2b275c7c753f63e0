"""Deadlines as people type them: "Friday 20:00", "fri 8pm", "in 2 hours", "周五 20:00",
"明天下午6点", "11/28 20:00". Read with dateparser (well kept, English and Chinese data, relative
forms), after a small rewrite of the Chinese clock words it does not know ("下午6点" is 18:00).

groupbuy.parsing tries its exact forms first ("20:00", "2026-12-01 18:00"); this reads the rest.
dateparser is imported on first use: most deadlines are exact, and its language data costs
about 60 ms and a few MB that a bot which never sees a natural deadline need not pay.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

# dateparser's settings for a future moment in the community's wall-clock time. Its TIMEZONE
# setting is not used: with PREFER_DATES_FROM it compares a bare time against UTC, sending
# "20:00" typed at 15:30 in Shanghai to tomorrow (dateparser issues #927, #1239). The base is
# the naive local time instead, and the result is read as local time.
_SETTINGS: dict[str, Any] = {
    "PREFER_DATES_FROM": "future",
    "DATE_ORDER": "MDY",  # "11/28" is November 28th, as both languages write it here
    "RETURN_AS_TIMEZONE_AWARE": False,
    "RETURN_TIME_AS_PERIOD": True,  # "Friday" alone is a day: a time is asked for
}
_LANGUAGES = ["en", "zh"]  # also 3-4x faster than detecting the language
_LONGEST = 40  # no deadline is longer; a pasted paragraph is not given to the parser

_ZH_DIGITS = {
    "十二": "12", "十一": "11", "十": "10", "两": "2", "俩": "2", "一": "1", "二": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_ZH_HOUR = re.compile(
    r"(?P<pre>今晚|今早|明晚|明早|下午|晚上|傍晚|上午|早上|早晨|凌晨|中午|晚|早)?\s*"
    r"(?P<h>十二|十一|十|[0-9]{1,2}|[一二两三四五六七八九])\s*[点點时時]"
    r"(?:\s*(?P<half>半)|\s*(?P<m>[0-9]{1,2})\s*分?)?"
)
_ZH_AFTER = re.compile(
    r"(?P<n>十二|十一|十|[0-9]{1,3}|[一二两三四五六七八九])\s*个?\s*(?P<u>小时|分钟)后"
)
_ZH_DATE = re.compile(r"(?P<mo>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号號]?")
_PM = {"今晚", "明晚", "下午", "晚上", "傍晚", "晚"}
_DAY_OF = {"今晚": "today ", "今早": "today ", "明晚": "tomorrow ", "明早": "tomorrow "}
_WEEKDAY_WORDS = re.compile(
    r"mon|tue|wed|thu|fri|sat|sun|周[一二三四五六日天]|星期|礼拜", re.IGNORECASE
)


def _hour(match: re.Match[str]) -> str:
    hour = int(_ZH_DIGITS.get(match["h"], match["h"]))
    minute = 30 if match["half"] else int(match["m"] or 0)
    pre = match["pre"] or ""
    if (pre in _PM and hour < 12) or (pre == "中午" and hour < 6):  # 中午1点 is 13:00
        hour += 12
    elif pre == "凌晨" and hour == 12:
        hour = 0
    return f" {_DAY_OF.get(pre, '')}{hour:02d}:{minute:02d} "


def _after(match: re.Match[str]) -> str:
    count = _ZH_DIGITS.get(match["n"], match["n"])
    return f" in {count} {'hours' if match['u'] == '小时' else 'minutes'} "


def _rewritten(text: str) -> str:
    """The Chinese clock words dateparser does not read, as forms it does."""
    text = re.sub(r"\btmrw?\b", "tomorrow", text, flags=re.IGNORECASE)
    text = _ZH_AFTER.sub(_after, text)
    text = _ZH_DATE.sub(lambda m: f" {m['mo']}/{m['d']} ", text)
    text = _ZH_HOUR.sub(_hour, text)
    return " ".join(text.split())


def natural(text: str, local_now: datetime) -> datetime | None:
    """The naive local time `text` names, after `local_now` (naive, the community's wall
    clock); None when it names no moment, or only a day without a time."""
    import dateparser.date  # first use only: see the module's note

    if len(text) > _LONGEST or any(c.isdigit() and not "0" <= c <= "9" for c in text):
        return None  # other scripts' digits: refused, as everywhere (groupbuy.parsing)
    parser = dateparser.date.DateDataParser(
        languages=_LANGUAGES, settings={**_SETTINGS, "RELATIVE_BASE": local_now}
    )
    data = parser.get_date_data(_rewritten(text))
    found = data.date_obj
    if found is None or data.period not in ("time", "hour", "minute", "second"):
        return None
    found = found.replace(tzinfo=None, microsecond=0)
    # Today's weekday with a time still ahead today ("fri 8pm" typed on Friday at 19:00)
    # means today; dateparser's future preference sends it to next week.
    earlier = found - timedelta(days=7)
    if (
        earlier.date() == local_now.date()
        and earlier > local_now
        and _WEEKDAY_WORDS.search(text)
        and not re.search(r"next|下周|下星期|下礼拜", text, re.IGNORECASE)
    ):
        found = earlier
    return found
