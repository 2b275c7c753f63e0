"""The deal post in the group: its text and buttons in every state, and its coalesced refresh."""

from __future__ import annotations

from groupbuy.model import Community, Deal, DealStats, DealStatus
from handlers.actions import Button, Edit, Keyboard, Send
from handlers.callbacks import Callback, Op
from handlers.common import button
from handlers.context import Deps


def post_text(deps: Deps, locale: str, deal: Deal, stats: DealStats, community: Community) -> str:
    return deps.texts.render(
        locale,
        "deal_post",
        deal=deal,
        stats=stats,
        tz=community.timezone,
    )


def post_keyboard(deps: Deps, locale: str, deal: Deal) -> Keyboard:
    if deal.status is DealStatus.CLOSED:
        return (
            (
                button(deps, locale, "pickup_list", Callback(Op.LIST, deal.id)),
                button(deps, locale, "goods_arrived", Callback(Op.ARRIVED, deal.id)),
            ),
        )
    if deal.status is not DealStatus.OPEN:
        return ()
    rows: list[tuple[Button, ...]] = []
    if len(deal.items) == 1:
        item = deal.items[0]
        rows.append(
            (
                button(deps, locale, "join", Callback(Op.JOIN, deal.id, item.id)),
                button(deps, locale, "less", Callback(Op.LESS, deal.id, item.id)),
            )
        )
    else:
        for item in deal.items:
            rows.append(
                (
                    button(
                        deps, locale, "add_item", Callback(Op.JOIN, deal.id, item.id), item=item
                    ),
                    button(deps, locale, "less", Callback(Op.LESS, deal.id, item.id)),
                )
            )
    rows.append((button(deps, locale, "my_order", Callback(Op.MINE, deal.id)),))
    rows.append(
        (
            button(deps, locale, "close_now", Callback(Op.CLOSE, deal.id)),
            button(deps, locale, "cancel_deal", Callback(Op.CANCEL_DEAL, deal.id)),
        )
    )
    return tuple(rows)


def confirm_keyboard(deps: Deps, locale: str, deal: Deal, op: Op) -> Keyboard:
    """Yes (to close now, or to cancel) and Back, under the question asked first."""
    label = "confirm_close" if op is Op.CONFIRM_CLOSE else "confirm_cancel"
    return (
        (
            button(deps, locale, label, Callback(op, deal.id)),
            button(deps, locale, "back", Callback(Op.BACK, deal.id)),
        ),
    )


def _post(deps: Deps, deal: Deal, community: Community, stats: DealStats) -> Send:
    locale = deps.community_locale(community)
    return Send(
        community.chat_id,
        post_text(deps, locale, deal, stats, community),
        post_keyboard(deps, locale, deal),
        post_of_deal=deal.id,
    )


def _photo(deps: Deps, deal: Deal, community: Community) -> Send | None:
    if deal.photo_file_id is None:
        return None
    locale = deps.community_locale(community)
    text = deps.texts.render(locale, "deal_photo", deal=deal)
    return Send(community.chat_id, text, photo_file_id=deal.photo_file_id)


def post_parts(
    deps: Deps, deal: Deal, community: Community, stats: DealStats
) -> tuple[Send | None, Send]:
    """The deal's photo (if it has one) and its post: two messages, so the post is always text
    (a caption would cap it at 1024 characters and need a different edit method)."""
    return _photo(deps, deal, community), _post(deps, deal, community, stats)


async def new_post(deps: Deps, deal: Deal, community: Community, stats: DealStats) -> list[Send]:
    """The messages that put a deal up, in order."""
    photo, post = post_parts(deps, deal, community, stats)
    return [post] if photo is None else [photo, post]


async def refreshed_post(deps: Deps, deal_id: int) -> Edit | None:
    """The current form of a deal's post, read after its version (for the post refresher)."""
    async with deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
        if deal is None or deal.post_chat_id is None or deal.post_message_id is None:
            return None
        community = await uow.communities.get(deal.community_id)
        stats = await uow.deals.stats(deal_id)
    if community is None:
        return None
    locale = deps.community_locale(community)
    return Edit(
        deal.post_chat_id,
        deal.post_message_id,
        post_text(deps, locale, deal, stats, community),
        post_keyboard(deps, locale, deal),
    )
