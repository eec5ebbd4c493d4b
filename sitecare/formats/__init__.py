"""sitecare's own date formats per language (``FORMAT_MODULE_PATH``): only what differs from
Django's locale formats, which every other name falls back to."""
