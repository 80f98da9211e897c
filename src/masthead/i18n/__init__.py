"""Interface words as data: one TOML file per language beside this module.

Feeds and pages (credits, "read more"), digests (greeting, footer), the web
pages of ``masthead serve`` and the sign-up confirmation mail take every word
from here, as ``word(language, "section.key")``. A language tag is looked up by
its primary subtag (``ar-EG`` reads ``ar.toml``); a word a language lacks, or
a language with no file, falls back to English, key by key. Adding a language
means adding one file: ``<code>.toml`` with the sections of ``en.toml``.

Dates are written for people here too: ``day_label`` gives ``6 مايو 2022`` or
``6 May 2022`` from the month and weekday names of the language's file.

Imports: nothing of masthead.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any

FALLBACK = "en"


def _primary(language: str) -> str:
    return language.split("-")[0].split("_")[0].lower()


@functools.cache
def _table(code: str) -> Mapping[str, Any]:
    """The flattened words of one language file ("section.key" -> value); empty when there is none."""
    source = resources.files(__name__).joinpath(f"{code}.toml")
    if not code.isalpha() or not source.is_file():
        return {}
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    return {f"{section}.{key}": value for section, values in data.items() for key, value in values.items()}


def languages() -> tuple[str, ...]:
    """Every language with a file of its own, English first."""
    codes = sorted(item.name.removesuffix(".toml") for item in resources.files(__name__).iterdir()
                   if item.name.endswith(".toml"))
    return (FALLBACK, *(c for c in codes if c != FALLBACK))


def interface_language(language: str) -> str:
    """The language whose file speaks for ``language``: its own when it has one, else English."""
    code = _primary(language)
    return code if _table(code) else FALLBACK


def word(language: str, key: str) -> str:
    """The word for ``key`` ("section.key") in ``language``, or in English when that language lacks it."""
    value = _table(_primary(language)).get(key, _table(FALLBACK)[key])
    if not isinstance(value, str):
        raise TypeError(f"{key} is a list of words; use names()")
    return value


def names(language: str, key: str) -> tuple[str, ...]:
    """A list of words (month or weekday names) for ``key``, English when the language lacks it."""
    value = _table(_primary(language)).get(key, _table(FALLBACK)[key])
    return tuple(value)


def section(language: str, name: str) -> dict[str, str]:
    """Every word of one section, English filling the gaps: what templates see (``labels``)."""
    prefix = f"{name}."
    merged = {k: v for k, v in _table(FALLBACK).items() if k.startswith(prefix)}
    merged.update({k: v for k, v in _table(_primary(language)).items() if k.startswith(prefix)})
    return {k.removeprefix(prefix): v for k, v in merged.items()}


def fallbacks(language: str) -> list[str]:
    """The English keys ``language`` has no word of its own for (endonyms of other languages aside)."""
    own = _table(_primary(language))
    return sorted(k for k in _table(FALLBACK) if k not in own and not k.startswith("endonyms."))


def language_name(code: str) -> str:
    """What a language calls itself (``العربية``, ``Français``); the code when masthead does not know."""
    primary = _primary(code)
    return str(_table(primary).get("language.name") or _table(FALLBACK).get(f"endonyms.{primary}") or code)


def day_label(day: date, language: str, *, weekday: bool = False, year: bool = True) -> str:
    """``6 مايو 2022`` / ``6 May 2022``; with ``weekday``: ``الجمعة 6 مايو 2022``."""
    month = names(language, "dates.months")[day.month - 1]
    pattern = word(language, "dates.day" if year else "dates.day_no_year")
    text = pattern.format(day=day.day, month=month, year=day.year)
    if not weekday:
        return text
    return word(language, "dates.with_weekday").format(weekday=names(language, "dates.weekdays")[day.weekday()],
                                                       date=text)


def period_label(first: date, last: date, cadence: str, language: str) -> str:
    """A digest's period as people write it: one day with its weekday, or a range of days."""
    if cadence == "daily" or first == last:
        return day_label(first, language, weekday=True)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{day_label(last, language)}"
    return f"{day_label(first, language, year=first.year != last.year)} – {day_label(last, language)}"
