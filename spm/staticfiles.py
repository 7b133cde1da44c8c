"""A staticfiles finder that serves plotly.js from the installed `plotly` package.

The Python package already ships the exact plotly.js its figures are built for, so the app serves
that copy (4.8 MB) instead of committing a second one that could drift out of step with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "vendor/plotly/plotly.min.js"
_PREFIX, _, _FILENAME = PLOTLY_STATIC_PATH.rpartition("/")


def _package_data_dir() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    """Exposes one file, vendor/plotly/plotly.min.js, and nothing else of the package.

    A STATICFILES_DIRS entry for package_data would also publish widgetbundle.js (5 MB) and the
    sample datasets; this finder keeps collectstatic and WhiteNoise to the single file pages load.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(_package_data_dir()))
        # WhiteNoise and collectstatic both read `prefix` to place the file under its URL.
        self.storage.prefix = _PREFIX  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if not self.storage.exists(_FILENAME):
            return [
                Error(
                    f"plotly.js is missing from {self.storage.location}.",
                    hint="Reinstall the `plotly` Python package.",
                    id="spm.E101",
                )
            ]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        if path != PLOTLY_STATIC_PATH or not self.storage.exists(_FILENAME):
            return [] if find_all else ""
        match = self.storage.path(_FILENAME)
        return [match] if find_all else match

    def list(self, ignore_patterns: list[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        if self.storage.exists(_FILENAME):
            yield _FILENAME, self.storage
