"""Leaders are the group's Telegram admins: asked of Telegram, cached for a few minutes, and
recorded in the database (so a private command finds the groups a person leads without asking
Telegram about every group the bot is in).

What a lookup costs a stranger is bounded per group, whatever they press: someone missing from
the group's list (or a group with no list yet) makes the group be asked at most once per
RECHECK_MISS_SECONDS, answered or not; while Telegram fails, nobody makes it be asked until the
failure's hold is over (bot.lookups). A listed admin whose list has aged past the TTL is asked
about again after a failure's hold, and meanwhile keeps the last list's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.lookups import Outages, is_an_answer
from groupbuy.clock import Clock
from groupbuy.errors import NotAnswered
from groupbuy.transaction_guard import refuse_inside

log = logging.getLogger(__name__)
AdminFetcher = Callable[[int], Awaitable[frozenset[int]]]
AdminRecorder = Callable[[int, frozenset[int]], Awaitable[None]]


# Someone missing from a cached list is looked up again after this long: a freshly promoted
# admin should not wait the full TTL, and a stranger pressing buttons must not cost a call each.
RECHECK_MISS_SECONDS = 15.0


@dataclass
class _List:
    admins: frozenset[int] | None  # None: never answered since the start (or since forget)
    fetched_at: float  # when `admins` was answered
    asked_at: float  # the last lookup, answered or not


class CachedLeaders:
    def __init__(
        self,
        fetch: AdminFetcher,
        ttl_seconds: float,
        clock: Clock,
        record: AdminRecorder | None = None,
    ) -> None:
        self._fetch = fetch
        self._record = record
        self._ttl = ttl_seconds
        self._outages = Outages(clock)
        self._lists: dict[int, _List] = {}

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        """Whether the person administers the group; NotAnswered when Telegram could not say
        and no list is known for the group."""
        # Asked outside every unit of work, even when the cache answers: the rule is then
        # broken in tests, where the cache is cold, not only in production when it expires.
        refuse_inside("getChatAdministrators")
        now = self._outages.now()
        known = self._lists.get(chat_id)
        if known is None:
            known = _List(None, -float("inf"), -float("inf"))
            self._lists[chat_id] = known
        listed = known.admins is not None and user_id in known.admins
        if listed:
            due = now - known.fetched_at > self._ttl and not self._outages.holds(chat_id)
        else:
            # A miss (or no list): asked at most once per RECHECK_MISS_SECONDS per group,
            # answered or not, and never while a failure's hold lasts.
            due = now - known.asked_at >= min(
                self._ttl, RECHECK_MISS_SECONDS
            ) and not self._outages.holds(chat_id)
        if due:
            known.asked_at = now
            try:
                admins = await self._fetch(chat_id)
            except Exception as error:
                if not is_an_answer(error):
                    # Telegram could not say: the last list stands, as old as it is (asked
                    # again after the hold, so a demotion is not hidden for longer than
                    # Telegram is unreachable).
                    log.warning("admins of %s: Telegram did not answer (%s)", chat_id, error)
                    self._outages.failed(chat_id, error)
                    if known.admins is None:
                        raise NotAnswered() from error
                    return user_id in known.admins
                # A 400/403: the bot is not in the group (any more). Nobody leads it through
                # the bot; the database's record is left as it was.
                self._outages.answered(chat_id)
                known.admins, known.fetched_at = frozenset(), now
                return False
            self._outages.answered(chat_id)
            changed = admins != known.admins
            known.admins, known.fetched_at = admins, now
            if changed and self._record is not None:
                await self._record(chat_id, admins)
        elif known.admins is None:
            raise NotAnswered()  # never answered, and not to be asked again yet
        return user_id in known.admins

    def known(self, chat_id: int, user_id: int) -> bool | None:
        """What the cache says without asking Telegram (so inside a unit of work too): None
        when `is_leader` would ask first."""
        known = self._lists.get(chat_id)
        if known is None or known.admins is None:
            return None
        now = self._outages.now()
        if user_id in known.admins:
            return True if now - known.fetched_at <= self._ttl else None
        due = now - known.asked_at >= min(self._ttl, RECHECK_MISS_SECONDS)
        return None if due and not self._outages.holds(chat_id) else False

    def note(self, chat_id: int, user_id: int, admin: bool) -> None:
        """A chat_member update: someone was promoted or demoted (or left). The known list
        follows without asking Telegram."""
        known = self._lists.get(chat_id)
        if known is not None and known.admins is not None:
            admins = known.admins | {user_id} if admin else known.admins - {user_id}
            known.admins = frozenset(admins)

    def forget(self, chat_id: int) -> None:
        """The bot's own standing in the group changed: its list is asked for afresh."""
        self._lists.pop(chat_id, None)
