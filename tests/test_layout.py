"""The dependency direction of frontdoor's packages, checked on the source: a new cycle or a wrong-way import fails here.

- the understanding and decision code (``frontdoor.handoff``, ``frontdoor.conversation`` and the pure incident
  modules) imports no storage, web, telephony or network code;
- ``frontdoor.handoff`` imports nothing from the rest of frontdoor;
- the core never imports a channel (phone line, desk speaker, agent console): channels plug in through entry points;
- channels never import each other;
- no module imports itself back through others, lazily or not.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"frontdoor": "frontdoor", "handoff": "frontdoor.handoff", "telephony": "frontdoor.telephony",
           "voice": "frontdoor.voice", "console": "frontdoor.console"}
CHANNELS = ("frontdoor.telephony", "frontdoor.voice", "frontdoor.console")
PURE = ("frontdoor.handoff", "frontdoor.conversation", "frontdoor.incidents.model", "frontdoor.incidents.matching",
        "frontdoor.incidents.speech")
NOT_IN_PURE_CODE = ("sqlalchemy", "flask", "werkzeug", "twilio", "urllib", "http", "smtplib", "socket", "requests",
                    "frontdoor.storage", "frontdoor.calls", "frontdoor.outbox", "frontdoor.notify", "frontdoor.web", *CHANNELS)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


@cache
def imports(module: str) -> frozenset[str]:
    """Every module ``module`` imports, at the top or inside a function, named as imported."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules())
    return frozenset(found)


def internal(module: str) -> set[str]:
    return {name for name in imports(module) if name in modules() and name != module}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def owner(module: str) -> str:
    return next((channel for channel in (*CHANNELS, "frontdoor.handoff") if within(module, channel)), "frontdoor")


def test_the_layout_is_read_from_every_folder() -> None:
    assert {owner(m) for m in modules()} == {"frontdoor", "frontdoor.handoff", *CHANNELS}
    assert "frontdoor.conversation.engine" in modules() and "frontdoor.telephony.app" in modules()


@pytest.mark.parametrize("module", [m for m in sorted(modules()) if any(within(m, p) for p in PURE)])
def test_understanding_and_decisions_import_no_storage_or_io(module: str) -> None:
    wrong = sorted(name for name in imports(module) if any(within(name, banned) for banned in NOT_IN_PURE_CODE))
    assert not wrong, f"{module} imports {wrong}"


def test_handoff_imports_nothing_from_the_rest_of_frontdoor() -> None:
    wrong = {(m, n) for m in modules() if owner(m) == "frontdoor.handoff" for n in internal(m) if owner(n) != "frontdoor.handoff"}
    assert not wrong


def test_the_core_imports_no_channel_and_channels_not_each_other() -> None:
    wrong = {(m, n) for m in modules() for n in internal(m) if owner(n) in CHANNELS and owner(n) != owner(m)}
    assert not wrong


def test_no_import_cycles() -> None:
    graph = {m: internal(m) - {m.rpartition(".")[0]} for m in modules()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)
