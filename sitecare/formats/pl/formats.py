"""Polish dates as sitecare shows them: Django's own Polish formats (``django.conf.locale.pl``:
"7 grudnia 2026 21:02", the month in the genitive), plus the short month sitecare uses in tight
places. Polish writes month abbreviations in lower case ("7 gru 2026"); Django's ``M`` always
capitalises them ("Gru"), its ``b`` does not."""

SHORT_MONTH = "b"
