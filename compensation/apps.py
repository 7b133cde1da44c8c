from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"
    verbose_name = "Compensation"

    def ready(self) -> None:
        from quotas.credits import set_credit_source

        from . import tasks  # noqa: F401 - connects the receivers that send recomputes
        from .attainment import CompensationCredits

        # Attainment everywhere (quota pages, team views) counts what crediting credited.
        set_credit_source(CompensationCredits())
