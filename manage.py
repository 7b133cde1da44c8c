#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spm.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (load the settings now, to report problems plainly)
    except ImproperlyConfigured as exc:
        # Otherwise Django goes on and buries this under an unrelated "apps not ready" trace.
        sys.exit(f"{exc} For development, set DEBUG=1 (the Makefile does); see docs/deploy.md.")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
