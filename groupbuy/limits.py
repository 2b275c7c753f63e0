"""Bounds on what people type, inside Telegram's own limits (4096 per message, 1024 per caption)."""

TITLE_MAX = 100
DESCRIPTION_MAX = 800  # keeps a deal post with a photo under Telegram's 1024-character caption
ITEM_NAME_MAX = 60
UNIT_MAX = 16
PLACE_MAX = 200
WINDOW_MAX = 100
TIERS_MAX = 4  # lower prices of an item beyond its first (阶梯价): a line of the post shows them
ITEMS_MAX = 8  # one button per item; more than this does not fit a phone screen
STOCK_MAX = 100_000
LIMIT_MAX = 1_000
MINIMUM_MAX = 100_000
BUILDINGS_MAX = 60
BUILDING_NAME_MAX = 16
COMMUNITY_NAME_MAX = 80
UNIT_ROOM_MAX = 16
PHONE_MAX = 20
PAYEE_MAX = 300  # pay-the-leader details, shown on order cards and pickup notices
DEADLINE_MAX_DAYS = 60
POINTS_MAX = 12  # pickup points of a community; a deal offers at most POINTS_OFFERED of them
POINTS_OFFERED = 6  # one button each on the order card
POINT_NAME_MAX = 40
POINT_ADDRESS_MAX = 160
POINT_HOURS_MAX = 60
SLOTS_MAX = 12  # pickup slots of a deal: one button each on the order card
SLOT_SEATS_MAX = 10_000
SLOT_MINUTES_MAX = 240
