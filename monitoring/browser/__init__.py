"""Checks in a real browser: Chromium driven by Playwright, behind sitecare's guard proxy.

- :mod:`monitoring.browser.session` opens one fresh browser context for one check (the
  contract the transaction and speed kinds use);
- the pool, the guard proxy and the recycling of browsers live beside it.
"""
