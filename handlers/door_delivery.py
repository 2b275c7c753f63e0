"""The buyer's choice on their order card: delivered to their door by the leader (for the
deal's fee), or picked up (groupbuy.door_delivery)."""

from __future__ import annotations

from groupbuy.door_delivery import choose_delivery
from groupbuy.errors import DomainError
from groupbuy.model import Deal
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer
from handlers.authority import Caller, Intent, as_resident
from handlers.callbacks import Callback
from handlers.common import alert, remembered
from handlers.context import Deps
from handlers.events import Press
from handlers.my_order import card_redrawn
from handlers.paying import window


async def on_choose(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=True)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> list[Action]:
        order = await uow.orders.of_user(deal.id, user.id)
        if order is None:
            raise DomainError("no_order")
        community = await uow.communities.get(deal.community_id)
        assert community is not None
        order = await choose_delivery(uow, deal, order, cb.arg == 1, now, window(community))
        await uow.commit()
        return [Answer(press.query_id), await card_redrawn(deps, uow, locale, press, deal, order)]

    try:
        return await as_resident(deps, Caller.of(press), cb.deal, Intent.CHANGE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
