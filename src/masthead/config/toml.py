"""Typed reading of one TOML file, with errors that name the file, the key and the fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError

LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")   # a tab is fine


class Table:
    """Typed access to one TOML table that remembers which file and key it is."""

    def __init__(self, data: dict[str, Any], where: str, prefix: str = ""):
        self.data = data
        self.where = where
        self.prefix = prefix
        self.used: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(
            f"key '{self._key(key)}' {expected}", where=self.where,
            hint=f"edit '{self._key(key)}' in {self.where}",
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, name: str = "") -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise ConfigError(
                    f"missing key '{self._key(key)}' ({name or getattr(kind, '__name__', 'a value')})",
                    where=self.where, hint=f"add {self._key(key)} = ... to {self.where}",
                )
            return default
        value = self.data[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            kinds = (kind,) if isinstance(kind, type) else kind
            expected = name or " or ".join(kind_name(k) for k in kinds)
            raise self.fail(key, f"must be {expected}, not {kind_name(type(value))} {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        value = self.get(key, str, default, name="a string")
        if isinstance(value, str) and ("\n" in value.strip() or "\r" in value):
            raise self.fail(key, "must be one line")
        if isinstance(value, str) and (bad := _CONTROL.search(value.strip())):
            raise self.fail(key, f"must not hold control characters or line separators (U+{ord(bad.group()):04X})")
        return value.strip() if isinstance(value, str) else value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [], name="a list of strings")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def positive(self, key: str, default: int) -> int:
        value = self.get(key, int, default, name="a whole number")
        if value < 0:
            raise self.fail(key, f"must be zero or more, not {value}")
        return value

    def number(self, key: str, default: float) -> float:
        """A number above zero (whole or not)."""
        value = self.get(key, (int, float), default, name="a number")
        if isinstance(value, bool) or value <= 0:
            raise self.fail(key, f"must be a number above zero, not {value!r}")
        return float(value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def table(self, key: str) -> Table:
        value = self.get(key, dict, {}, name="a table")
        return Table(value, self.where, f"{self._key(key)}.")

    def language(self, key: str, default: Any = ...) -> Any:
        value = self.text(key, default)
        if value is not None and not LANGUAGE.match(value):
            raise self.fail(key, f"must be a language code such as 'ar' or 'en-GB', not {value!r}")
        return value

    def url(self, key: str, default: Any = ...) -> Any:
        value = self.text(key, default)
        if key in self.data:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise self.fail(key, f"must be an http(s) URL such as 'https://example.org/', not {value!r}")
        return value

    def urls(self, key: str) -> tuple[str, ...]:
        """One http(s) URL or a list of them (``hub = "https://..."`` or ``hub = ["https://...", ...]``)."""
        self.used.add(key)
        value = self.data.get(key, [])
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.fail(key, f"must be a URL or a list of URLs, not {kind_name(type(value))} {value!r}")
        for one in values:
            parts = urlsplit(one.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in one.strip()):
                raise self.fail(key, f"must hold http(s) URLs such as 'https://example.org/', not {one!r}")
        return tuple(dict.fromkeys(v.strip() for v in values))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            key = unknown[0]
            raise ConfigError(
                f"unknown key '{self._key(key)}'", where=self.where,
                hint="check its spelling against the README's settings reference, or remove it",
            )


def kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", list: "a list",
            dict: "a table", float: "a number"}.get(kind, kind.__name__)


def read_toml(path: Path, where: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path.name} is missing", where=where,
                          hint="run 'masthead init DIR' to start a publication, or pass --project DIR") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where, hint="fix the syntax at that line") from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", where=where, hint="save the file as UTF-8") from None


