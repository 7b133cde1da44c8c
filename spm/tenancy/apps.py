from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "spm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks, rls  # noqa: F401  (registers the system checks)

        # post_migrate is sent once per app after *all* migrations have run, so hooking our own
        # app's signal sees every table. A tenant table added later gets its policy without
        # anyone remembering to write one.
        post_migrate.connect(
            rls.install_rls_after_migrate, sender=self, dispatch_uid="spm-install-rls"
        )
