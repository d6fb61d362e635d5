"""The tree follows the data flow: one package per stage, imports point only to earlier stages
(or the shared pieces), no import cycle, no module a person cannot read in one sitting."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "putuo_xl"
SHARED = {"putuo_xl", "config", "errors", "text", "fileio", "locks", "layout", "parallel",
          "resources", "docx_gbt"}
STAGES = ["plan", "ledger", "workbook", "collect", "rollup", "report", "mail"]
TOP = {"demo", "excel", "cli", "__main__"}
MAX_LINES = 1000


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py") if "data" not in p.relative_to(PKG).parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every putuo_xl module `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def layer(module: str) -> tuple[int, str]:
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else "putuo_xl"
    if first in SHARED:
        return 0, "shared"
    if first in STAGES:
        return 1 + STAGES.index(first), first
    if first in TOP:
        return 1 + len(STAGES), "top"
    raise AssertionError(f"{module}: not in a stage package nor among the shared pieces; "
                         f"add it to the layout (docs/layout.md)")


@pytest.fixture(scope="module")
def graph():
    mods = modules()
    return {m: imports_of(p, set(mods)) for m, p in mods.items()}


def test_every_module_has_a_place(graph):
    for m in graph:
        layer(m)


def test_imports_point_to_earlier_stages_only(graph):
    wrong = []
    for m, deps in graph.items():
        lm = layer(m)
        for d in deps:
            ld = layer(d)
            if ld[0] > lm[0]:
                wrong.append(f"{m} ({lm[1]}) imports {d} ({ld[1]})")
    assert not wrong, "\n".join(sorted(wrong))


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def test_no_import_cycle(graph):
    # package __init__ files re-export lazily (no import), so a package and its modules do not
    # form a cycle; any other cycle is a fault
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_cycle_detection_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_module_over_the_limit():
    long = {module_name(p): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_each_package_says_what_it_takes_and_gives():
    for pkg in STAGES:
        doc = ast.get_docstring(ast.parse((PKG / pkg / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) >= 3, pkg


def test_lazy_exports_resolve():
    import importlib
    for pkg in STAGES:
        mod = importlib.import_module(f"putuo_xl.{pkg}")
        for name in mod.__all__:
            assert getattr(mod, name) is not None, (pkg, name)
        with pytest.raises(AttributeError):
            getattr(mod, "no_such_name")
