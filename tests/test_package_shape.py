"""The package's shape, as issue 13 set it: no import cycle between its
modules (module-level or inside functions), no module over 600 lines and no
function over 80 lines (migrations aside)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ckanext-binhphuoc" / "ckanext" / "binhphuoc"
ROOT_NAME = "ckanext.binhphuoc"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "migration":
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([ROOT_NAME, *parts])] = path
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    names = [prefix + "." + alias.name for alias in node.names]
    return [n for n in names if n in MODULES] or ([prefix] if prefix in MODULES else [])


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (anywhere in its body)."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in MODULES)
            elif isinstance(node, ast.ImportFrom):
                deps.update(_resolve(module, path.name == "__init__.py", node))
        # a package's __init__ is imported with its modules: not a dependency edge
        graph[module] = {d for d in deps if d != module and not module.startswith(d + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (a list of modules, first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


#: The layers of docs/architecture.md, bottom first: a module may import
#: modules of its own part and of lower layers only. A higher layer reaches a
#: lower one's caller through an action (harvesters → workflow).
LAYERS: list[set[str]] = [
    {"config", "datatypes", "i18n_tools", "__init__"},
    {"profile", "mail", "ratelimit", "exports"},
    {"codelists", "backup", "index_drift"},
    {"cli"},
    {"schema", "pgsearch", "access", "audit"},
    {"tables", "rdf", "maps", "sso"},
    {"workflow"},
    {"harvest", "certification", "feedback"},
    {"guard", "reports"},
]


def _part(module: str) -> str:
    rest = module[len(ROOT_NAME):].lstrip(".")
    return rest.split(".")[0] or "__init__"


def _layer(part: str) -> int:
    for rank, parts in enumerate(LAYERS):
        if part in parts:
            return rank
    raise AssertionError(f"{part}: give it a layer in LAYERS (and in docs/architecture.md)")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, deps in sorted(graph.items()):
        part = _part(module)
        for dep in sorted(deps):
            dep_part = _part(dep)
            if dep_part != part and _layer(dep_part) >= _layer(part):
                out.append(f"{module} imports {dep}")
    return out


def test_layers():
    assert layer_violations(import_graph()) == []


def test_layer_check_finds_an_upward_import():
    graph = {ROOT_NAME + ".schema.helpers": {ROOT_NAME + ".workflow.logic"}}
    assert layer_violations(graph) == [
        f"{ROOT_NAME}.schema.helpers imports {ROOT_NAME}.workflow.logic"]


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module}: {lines} lines"


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{node.name} ({length} lines, line {node.lineno})")
    return out


@pytest.mark.parametrize("module", sorted(MODULES))
def test_function_size(module):
    assert long_functions(MODULES[module]) == []
