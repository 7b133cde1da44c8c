"""Matching names the way people write them: case, accents, spacing and punctuation ignored, so
"Chloe Okafor", "CHLOÉ OKAFOR" and "Okafor, Chloé" all find Chloé Okafor. Pure Python."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

# Letters that Unicode does not decompose into a base letter plus an accent.
_UNDECOMPOSED = str.maketrans({
    "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "\u0131": "i",  # dotless i
})
_NOT_WORD = re.compile(r"[\W_]+")


def name_key(value: str) -> str:
    """The form two names are compared in: 'Chloé  Okafor-Smith' -> 'chloe okafor smith'.

    Letters and digits of every script are kept (a Japanese company name keeps its characters),
    so only accents, case and punctuation stop mattering.
    """
    text = unicodedata.normalize("NFKD", value.translate(_UNDECOMPOSED))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", text).strip()


def name_keys(value: str) -> list[str]:
    """The keys a written name may match: as written, and "Last, First" turned round."""
    keys = [name_key(value)]
    if value.count(",") == 1:
        last, first = value.split(",")
        if last.strip() and first.strip():
            keys.append(name_key(f"{first} {last}"))
    return [k for k in dict.fromkeys(keys) if k]


@dataclass
class NameIndex:
    """Records by name key; a key two different records share is ambiguous."""

    found: dict[str, Hashable] = field(default_factory=dict)
    ambiguous: dict[str, list[Hashable]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, Hashable]]) -> NameIndex:
        index = cls()
        for name, record in pairs:
            index.add(name, record)
        return index

    def add(self, name: str, record: Hashable) -> None:
        key = name_key(name)
        if not key:
            return
        if key in self.ambiguous:
            if record not in self.ambiguous[key]:
                self.ambiguous[key].append(record)
        elif key in self.found and self.found[key] != record:
            self.ambiguous[key] = [self.found.pop(key), record]
        else:
            self.found[key] = record

    def look_up(self, written: str) -> tuple[Hashable | None, list[Hashable]]:
        """(the one record, []) or (None, the records sharing the name) or (None, [])."""
        for key in name_keys(written):
            if key in self.found:
                return self.found[key], []
            if key in self.ambiguous:
                return None, list(self.ambiguous[key])
        return None, []
