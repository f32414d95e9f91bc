"""The house rules of the package layout, checked on the import graph.

* no import circles between modules of ``surveyapp`` and ``analysis``;
* a blueprint package (admin, api, auth, cases, dashboard, main, survey) never imports another one;
* ``analysis`` imports nothing of the web app (nor Flask / SQLAlchemy).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("surveyapp", "analysis")
BLUEPRINTS = ("surveyapp.admin", "surveyapp.api", "surveyapp.auth", "surveyapp.cases", "surveyapp.dashboard",
              "surveyapp.main", "surveyapp.survey")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES
            for path in (ROOT / package).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ours that ``name`` imports, at any depth of its code (lazy imports count)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from . import views" imports the module surveyapp.x.views
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # A package importing its own submodules (to register routes) is how blueprints are built,
    # and a submodule importing its package's ``bp`` is the other half: not a design circle.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not t.startswith(name + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
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


def test_no_import_circles(graph):
    cycle = _cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_check_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _blueprint_of(module: str) -> str | None:
    return next((bp for bp in BLUEPRINTS if module == bp or module.startswith(bp + ".")), None)


def test_blueprints_do_not_import_each_other(graph):
    crossings = [f"{name} imports {target}" for name, targets in graph.items()
                 for target in targets
                 if _blueprint_of(name) and _blueprint_of(target)
                 and _blueprint_of(name) != _blueprint_of(target)]
    assert not crossings, "\n".join(crossings)


def test_services_and_shared_modules_import_no_blueprint(graph):
    crossings = [f"{name} imports {target}" for name, targets in graph.items()
                 if name.startswith("surveyapp.") and not _blueprint_of(name)
                 and name != "surveyapp"
                 for target in targets if _blueprint_of(target)]
    assert not crossings, "\n".join(crossings)


def test_analysis_imports_no_web_code(graph):
    modules = _modules()
    offenders = [name for name, targets in graph.items() if name.startswith("analysis")
                 and any(t.startswith("surveyapp") for t in targets)]
    for name in (n for n in modules if n.startswith("analysis")):
        tree = ast.parse(modules[name].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy") for n in names):
                    offenders.append(name)
    assert not offenders, offenders
