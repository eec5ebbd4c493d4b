"""English dates as sitecare shows them: day, short month, year and a 24-hour clock
("7 Dec 2026, 21:02"), not Django's American "Dec. 7, 2026, 9:02 p.m.". Polish uses Django's
own Polish formats ("7 grudnia 2026 21:02": the month in the genitive, lowercase)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
# The short month of tight places (``front.formatting.moment``'s "abbr" details): "Dec".
SHORT_MONTH = "M"
