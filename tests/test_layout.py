"""The code's layout: stage packages, imports that run one way, no cycles, small modules.

The import graph is read from the source with ``ast`` (imports inside
functions count too; those under ``if TYPE_CHECKING:`` do not), so a rule
broken anywhere names the file and the import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

SRC = ROOT / "src" / "masthead"
FOUNDATION = {"records", "errors", "config", "text", "tokens", "i18n"}
STAGES = {"collect", "feeds", "digest", "send", "subscribers", "web"}
ENTRY = {"pipeline", "serve", "check", "scaffold", "cli", "__main__"}
# Which other stages a stage may import; every stage may import state and the foundation.
STAGE_DEPENDENCIES = {
    "collect": set(),
    "feeds": set(),
    "digest": {"send"},
    "send": set(),
    "subscribers": {"send"},
    "web": {"subscribers", "send"},
}
TOP_LEVEL_LIMIT = 12
LINE_LIMIT = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported masthead module) for every import in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _type_checking_lines(tree)
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("masthead")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("masthead"):
                continue
            for alias in node.names:   # "from . import pages" imports a module
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else target))
    return found


def _is_module(dotted: str) -> bool:
    path = SRC.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def part(module: str) -> str:
    """The top-level part of masthead a module belongs to: a stage, state, a foundation module..."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "masthead"


def graph() -> dict[str, list[tuple[int, str]]]:
    return {module_name(p): imports_of(p) for p in sorted(SRC.rglob("*.py"))}


def where(module: str) -> str:
    path = SRC.parent.joinpath(*module.split("."))
    return str((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).relative_to(ROOT))


def broken_rule(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None when it may."""
    src, dst = part(importer), part(imported)
    if src == dst or dst == "masthead":       # within a part; the package root holds only __version__
        return None
    if src in ENTRY:      # cli -> pipeline: only python -m masthead reaches the CLI
        return f"{src} may not import {dst}" if dst == "__main__" or (dst == "cli" and src != "__main__") else None
    if dst in ENTRY:
        return f"{src} may not import {dst}: imports run cli -> pipeline -> stages -> state"
    if src in FOUNDATION or src == "masthead":
        return None if dst in FOUNDATION else f"the shared vocabulary ({src}) may not import {dst}"
    if src == "state":
        return None if dst in {"records", "errors", "config"} else f"state may import only records, errors, config, not {dst}"
    if src in STAGES:
        if dst in FOUNDATION or dst == "state" or dst in STAGE_DEPENDENCIES[src]:
            return None
        return f"{src} may not import {dst}"
    return f"{src} is not a known part of the layout"


class TestImports:
    def test_imports_run_one_way(self) -> None:
        """cli -> pipeline -> stages -> state and the shared vocabulary; each stage only its allowed neighbours."""
        wrong = [f"{where(importer)}:{line} imports {imported}: {why}"
                 for importer, edges in graph().items() for line, imported in edges
                 if (why := broken_rule(importer, imported)) is not None]
        assert [] == wrong

    def test_no_import_cycles(self) -> None:
        """No module reaches itself through its imports."""
        edges = {m: {i for _, i in targets if i != m} for m, targets in graph().items()}
        cycles = []
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for nxt in sorted(edges.get(node, ())):
                if state.get(nxt) == 1:
                    cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else nxt)
                elif nxt not in state:
                    visit(nxt, [*path, nxt])
            state[node] = 2

        for module in sorted(edges):
            if module not in state:
                visit(module, [module])
        assert [] == cycles

    def test_feeds_and_collect_load_no_mail_code(self) -> None:
        """Importing the collect and feeds stages loads nothing of send, subscribers or web, nor smtplib."""
        probe = ("import sys, masthead.collect, masthead.feeds; "
                 "print('\\n'.join(sorted(m for m in sys.modules if m == 'smtplib' or m.split('.')[:2] in "
                 "(['masthead', 'send'], ['masthead', 'subscribers'], ['masthead', 'web']))))")
        loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        assert "" == loaded.strip()

    def test_the_rule_catches_a_wrong_import(self) -> None:
        """The checker itself names a forbidden import (feeds reaching into subscribers)."""
        assert "feeds may not import subscribers" == broken_rule("masthead.feeds.pages", "masthead.subscribers.signup")
        assert broken_rule("masthead.digest.build", "masthead.send.message") is None


class TestModules:
    def test_few_modules_at_the_top(self) -> None:
        """At most a dozen modules sit at the top of src/masthead; the rest live in stage packages."""
        top = sorted(p.name for p in SRC.glob("*.py"))
        assert len(top) <= TOP_LEVEL_LIMIT, top

    def test_no_module_is_too_long(self) -> None:
        """No module is over 400 lines."""
        long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
                if (n := len(p.read_text("utf-8").splitlines())) > LINE_LIMIT}
        assert {} == long

    def test_every_package_says_what_it_owns_and_may_import(self) -> None:
        """Each stage package's __init__ has a docstring naming what it may import."""
        silent = [p.parent.name for p in SRC.glob("*/__init__.py")
                  if "Imports:" not in (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "")
                  and p.parent.name != "cli"]
        assert [] == silent
