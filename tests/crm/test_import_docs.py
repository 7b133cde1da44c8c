"""docs/import.md stays the reference: it names every header each import kind accepts, every
option of import_crm, and every built-in stage value and title rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from spm.crm.imports.fields import KINDS
from spm.crm.imports.stages import _DEFAULT_PIPELINES
from spm.org.titles import BUILT_IN_RULES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_import_page_documents_every_accepted_header(kind):
    missing = [
        alias for spec in KINDS[kind].fields for alias in spec.aliases if f"`{alias}`" not in DOC
    ]
    assert missing == []


def test_every_option_of_the_command_is_documented():
    command = load_command_class(get_commands()["import_crm"], "import_crm")
    parser = command.create_parser("manage.py", "import_crm")
    options = [o for action in parser._actions for o in action.option_strings
               if o.startswith("--") and o not in {"--help", "--version", "--verbosity",
                                                   "--settings", "--pythonpath", "--traceback",
                                                   "--no-color", "--force-color",
                                                   "--skip-checks"}]
    assert options
    assert [o for o in options if o not in DOC] == []


def test_the_built_in_stage_values_and_title_rules_are_documented():
    normal = re.sub(r"[^0-9a-z]", "", DOC.casefold())
    assert [value for value in _DEFAULT_PIPELINES if value not in normal] == []
    assert [words for words, _ in BUILT_IN_RULES if f"`{words}`" not in DOC] == []
