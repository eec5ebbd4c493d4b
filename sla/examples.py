"""Three example care plans an agency can start from: a start-up, a seasonal shop, a firm.

- *Start-up*: business-hours cover (Mon–Fri 09:00–17:00, Polish holidays), 99.5 % a month,
  next-hour response to a P1, a small fee.
- *Seasonal shop*: around the clock (a shop sells at night and on weekends, most of all in
  its campaign weeks), 99.9 % a month, 15-minute P1 response, hourly backups.
- *Enterprise*: around the clock, 99.95 % a quarter, formal targets for all priorities,
  steep credits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from sla.models import CarePlan, MeasurementWindow
from tenancy.models import Organization

_WEEKDAYS_9_17 = {
    day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def example_plans() -> list[dict[str, Any]]:
    """The example plans as field values (names in the active language)."""
    return [
        {
            "slug": "startup",
            "name": _("Start-up"),
            "description": _(
                "Business-hours care for a young company that ships fast: 99.5 % a month, "
                "P1 answered within an hour on working days."
            ),
            "availability_target": Decimal("99.5"),
            "window": MeasurementWindow.MONTH,
            "business_hours": _WEEKDAYS_9_17,
            "holiday_country": "PL",
            "p1_response_minutes": 60,
            "p1_resolution_minutes": 8 * 60,
            "p2_response_minutes": 4 * 60,
            "p2_resolution_minutes": 16 * 60,
            "p3_response_minutes": 8 * 60,
            "p3_resolution_minutes": 40 * 60,
            "p4_response_minutes": 16 * 60,
            "support_hours": Decimal(2),
            "rpo_minutes": 24 * 60,
            "rto_minutes": 8 * 60,
            "monthly_fee": Decimal(490),
            "credits": [{"below": "99.5", "percent": "10"}, {"below": "99", "percent": "25"}],
        },
        {
            "slug": "seasonal-shop",
            "name": _("Seasonal shop"),
            "description": _(
                "Around-the-clock care for a shop whose year is a few campaign weeks: 99.9 % a "
                "month, P1 answered within 15 minutes day and night, hourly backups."
            ),
            "availability_target": Decimal("99.9"),
            "window": MeasurementWindow.MONTH,
            "p1_response_minutes": 15,
            "p1_resolution_minutes": 4 * 60,
            "p2_response_minutes": 60,
            "p2_resolution_minutes": 8 * 60,
            "p3_response_minutes": 8 * 60,
            "p3_resolution_minutes": 3 * 24 * 60,
            "p4_response_minutes": 24 * 60,
            "p4_resolution_minutes": 10 * 24 * 60,
            "support_hours": Decimal(4),
            "rpo_minutes": 60,
            "rto_minutes": 4 * 60,
            "monthly_fee": Decimal(1490),
            "credits": [
                {"below": "99.9", "percent": "10"},
                {"below": "99.5", "percent": "25"},
                {"below": "99", "percent": "50"},
            ],
        },
        {
            "slug": "enterprise",
            "name": _("Enterprise"),
            "description": _(
                "Formal SLA for a larger firm: 99.95 % a quarter around the clock, targets for "
                "every priority, audits and reports."
            ),
            "availability_target": Decimal("99.95"),
            "window": MeasurementWindow.QUARTER,
            "p1_response_minutes": 15,
            "p1_resolution_minutes": 2 * 60,
            "p2_response_minutes": 30,
            "p2_resolution_minutes": 6 * 60,
            "p3_response_minutes": 4 * 60,
            "p3_resolution_minutes": 2 * 24 * 60,
            "p4_response_minutes": 8 * 60,
            "p4_resolution_minutes": 5 * 24 * 60,
            "support_hours": Decimal(16),
            "rpo_minutes": 15,
            "rto_minutes": 60,
            "monthly_fee": Decimal(6900),
            "credits": [
                {"below": "99.95", "percent": "10"},
                {"below": "99.9", "percent": "25"},
                {"below": "99.5", "percent": "50"},
            ],
        },
    ]


def install_example_plans(organization: Organization) -> list[CarePlan]:
    """Add the examples the agency does not have yet (by slug), in its language."""
    created = []
    with override(organization.language), transaction.atomic():
        have = set(
            CarePlan.objects.filter(organization=organization).values_list("slug", flat=True)
        )
        for values in example_plans():
            if values["slug"] in have:
                continue
            plan = CarePlan(organization=organization, **values)
            plan.full_clean()
            plan.save()
            created.append(plan)
    return created
