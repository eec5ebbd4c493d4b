"""The demo shop's cart (kept in a cookie per visitor), its payment rule and its orders.

Nothing is stored per visitor on the server: the cart travels in a cookie (``1:2,3:1`` is two
of product 1 and one of product 3), and only paid orders are kept, in memory, for their
confirmation pages.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

COOKIE = "demo_cart"
MAX_QUANTITY = 9
MAX_ORDERS = 500
# The one card the demo's payment provider accepts (Stripe's well-known test number).
TEST_CARD = "4242424242424242"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Line:
    """One product in the cart, with its quantity."""

    product_pk: int
    name: str
    price: Decimal
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


def read_cart(cookie: str, known: set[int]) -> dict[int, int]:
    """The cart a cookie holds: product → quantity (unknown products and junk dropped)."""
    cart: dict[int, int] = {}
    for part in cookie.split(","):
        pk_text, _sep, quantity_text = part.partition(":")
        try:
            pk, quantity = int(pk_text), int(quantity_text)
        except ValueError:
            continue
        if pk in known and quantity > 0:
            cart[pk] = min(quantity, MAX_QUANTITY)
    return cart


def write_cart(cart: dict[int, int]) -> str:
    return ",".join(f"{pk}:{quantity}" for pk, quantity in sorted(cart.items()))


@dataclass(frozen=True)
class Payment:
    """What the checkout form sent."""

    name: str
    email: str
    card: str

    def problems(self) -> dict[str, str]:
        """Field → what is wrong with it, in the visitor's language (empty when it may be paid).

        A well-formed card other than the test card is not a form mistake: the provider
        declines it (``declined``), as a real one would.
        """
        problems: dict[str, str] = {}
        if not self.name.strip():
            problems["name"] = _("Enter your name.")
        if not EMAIL.match(self.email.strip()):
            problems["email"] = _("Enter an email address like you@example.com.")
        if not re.fullmatch(r"\d{12,19}", self.card_digits):
            problems["card"] = _("Enter the 16 digits of your card number.")
        return problems

    @property
    def card_digits(self) -> str:
        return re.sub(r"[\s-]", "", self.card)

    @property
    def declined(self) -> bool:
        return self.card_digits != TEST_CARD


@dataclass(frozen=True)
class Order:
    number: str
    name: str
    email: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))


class Orders:
    """The paid orders, newest last; the oldest go once there are ``MAX_ORDERS``."""

    def __init__(self, first_number: int = 100_001) -> None:
        self._orders: OrderedDict[str, Order] = OrderedDict()
        self._numbers = itertools.count(first_number)

    def place(self, payment: Payment, lines: tuple[Line, ...]) -> Order:
        order = Order(f"DS-{next(self._numbers)}", payment.name.strip(), payment.email, lines)
        self._orders[order.number] = order
        while len(self._orders) > MAX_ORDERS:
            self._orders.popitem(last=False)
        return order

    def get(self, number: str) -> Order | None:
        return self._orders.get(number)
