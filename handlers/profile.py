"""The resident's profile (building, unit, room, phone), asked once and changed with /profile."""

from __future__ import annotations

from typing import Any

from groupbuy import limits, parsing
from groupbuy.errors import DomainError, InputError
from groupbuy.model import Resident
from handlers.actions import Action, Answer, Keyboard, Send
from handlers.callbacks import Callback, Op
from handlers.common import button, refusal
from handlers.context import Deps
from handlers.events import Person

STATE = "profile"
_STEPS = ("building", "unit", "room", "phone")


async def start(deps: Deps, person: Person, community_id: int, then: str | None) -> list[Action]:
    async with deps.uow() as uow:
        community = await uow.communities.get(community_id)
        user = await uow.users.get(person.id)
        if community is None:
            return []
        resident = await uow.users.resident(community_id, person.id)  # shown before changing
        data: dict[str, Any] = {"community": community_id, "step": "building", "then": then}
        await uow.dialogs.save(person.id, STATE, data, deps.clock.now())
        await uow.commit()
    locale = deps.user_locale(user or person)
    keyboard: Keyboard = tuple(
        tuple(
            button(deps, locale, "building", Callback(Op.BUILDING, 0, i), name=name)
            for i, name in list(enumerate(community.buildings))[row : row + 4]
        )
        for row in range(0, len(community.buildings), 4)
    )
    text = deps.texts.render(locale, "profile_building", community=community, resident=resident)
    return [Send(person.id, text, keyboard)]


def _ask(deps: Deps, locale: str, chat_id: int, step: str) -> Send:
    keyboard: Keyboard = ()
    if step in ("unit", "phone"):
        keyboard = ((button(deps, locale, "skip", Callback(Op.SKIP)),),)
    return Send(chat_id, deps.texts.render(locale, f"profile_{step}"), keyboard)


def _accept(step: str, text: str, buildings: tuple[str, ...]) -> str:
    if step == "building":
        name = parsing.clean_text(text).strip().removesuffix("号楼").removesuffix("栋")
        if name not in buildings:
            raise InputError("building_unknown", name=name, known=", ".join(buildings))
        return name
    if step == "phone":
        value = parsing.typed_digits(parsing.bounded_text(text, limits.PHONE_MAX, key="phone"))
        if not all(ch in "0123456789+- ()" for ch in value):
            raise InputError("phone_invalid")
        return value
    return parsing.bounded_text(text, limits.UNIT_ROOM_MAX, key=step)


async def answer(
    deps: Deps, person: Person, data: dict[str, Any], value: str | None, query_id: str | None = None
) -> list[Action]:
    """One answer to the current step: a typed text, a pressed building, or Skip (value None)."""
    from handlers.joining import join_from_link  # joining imports profile's caller; keep it lazy

    actions: list[Action] = [Answer(query_id)] if query_id else []
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        community = await uow.communities.get(int(data["community"]))
        locale = deps.user_locale(user or person)
        if community is None:
            await uow.dialogs.clear(person.id)
            await uow.commit()
            return actions
        step = str(data["step"])
        try:
            if value is None:
                if step not in ("unit", "phone"):
                    raise InputError("step_required")
                data[step] = None
            else:
                data[step] = _accept(step, value, community.buildings)
        except DomainError as error:
            return [*actions, refusal(deps, person.id, locale, error)]
        following = _STEPS[_STEPS.index(step) + 1 :]
        if following:
            data["step"] = following[0]
            await uow.dialogs.save(person.id, STATE, data, deps.clock.now())
            await uow.commit()
            return [*actions, _ask(deps, locale, person.id, following[0])]
        resident = Resident(
            community.chat_id,
            person.id,
            str(data["building"]),
            str(data.get("unit") or ""),  # skipped: no unit
            str(data["room"]),
            data.get("phone"),
        )
        await uow.users.save_resident(resident)
        await uow.dialogs.clear(person.id)
        await uow.commit()
    actions.append(
        Send(
            person.id,
            deps.texts.render(locale, "profile_saved", resident=resident, community=community),
        )
    )
    then = data.get("then")
    if isinstance(then, str) and then.startswith("j_"):
        _, deal_id, item_id = then.split("_")
        try:  # checked again: the profile took a while, and membership can change meanwhile
            joined = await join_from_link(deps, person, int(deal_id), int(item_id))
        except DomainError as error:
            return [*actions, refusal(deps, person.id, locale, error)]
        if isinstance(joined, list):  # the profile was just saved: never NoProfile
            actions += joined
    return actions


async def on_building(
    deps: Deps, person: Person, data: dict[str, Any], index: int, query_id: str
) -> list[Action]:
    async with deps.uow() as uow:
        community = await uow.communities.get(int(data["community"]))
    if (
        community is None
        or not 0 <= index < len(community.buildings)
        or data.get("step") != "building"
    ):
        return [Answer(query_id)]
    return await answer(deps, person, data, community.buildings[index], query_id)
