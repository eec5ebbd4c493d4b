"""What the demo shop sells, and how its pages are rendered (with the visitor's cart count)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web
from django.template import Context, Engine
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from core.demo.cart import COOKIE, Line, read_cart

TEMPLATES = Engine(
    dirs=[str(Path(__file__).parent / "templates")],
    libraries={"i18n": "django.templatetags.i18n"},
)


@dataclass(frozen=True)
class Product:
    pk: int
    name: Promise
    description: Promise
    price: str
    colour: str


PRODUCTS = (
    Product(
        1,
        gettext_lazy("Stoneware mug"),
        gettext_lazy("Hand-glazed in a small workshop; holds a generous 350 ml of coffee."),
        "18.00",
        "#c2410c",
    ),
    Product(
        2,
        gettext_lazy("Linen tea towel"),
        gettext_lazy("Stonewashed linen that dries quickly and softens with every wash."),
        "12.50",
        "#0f766e",
    ),
    Product(
        3,
        gettext_lazy("Oak cutting board"),
        gettext_lazy("Solid European oak, oiled by hand, with a juice groove."),
        "39.00",
        "#a16207",
    ),
)
PRODUCTS_BY_PK = {item.pk: item for item in PRODUCTS}


def cart_of(request: web.Request) -> dict[int, int]:
    """The visitor's cart: product → quantity."""
    return read_cart(request.cookies.get(COOKIE, ""), set(PRODUCTS_BY_PK))


def lines_of(cart: dict[int, int]) -> tuple[Line, ...]:
    """The cart as lines with names and prices (in the active language)."""
    return tuple(
        Line(pk, str(PRODUCTS_BY_PK[pk].name), Decimal(PRODUCTS_BY_PK[pk].price), quantity)
        for pk, quantity in cart.items()
    )


def render(name: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    html = TEMPLATES.get_template(name).render(Context(context))
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def page(
    request: web.Request, name: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """A shop page; its header shows how many items the visitor's cart holds."""
    items = sum(cart_of(request).values())
    return render(name, {"cart_items": items, **context}, status=status)
