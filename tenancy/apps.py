from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tenancy import checks  # noqa: F401  (importing it registers the system checks)


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")
