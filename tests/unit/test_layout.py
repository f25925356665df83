"""docs/layout.md and the layering rules of the README, checked against the code.

The modules come from the file system and the imports from the source (``ast``), so a new
module missing from the layout page, or a new upward import, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "docs" / "layout.md"
# Directories whose every module the layout page names (packages' __init__.py aside).
PACKAGES = ("chalicelib", "devstack", "scripts", "bench")
# Code that drives the app from outside: the Lambda code never imports it.
OUTSIDE = frozenset({*PACKAGES[1:], "tests", "app"})
DATA_LAYER = frozenset({"chalicelib.models", "chalicelib.transactions"})
MODULE = re.compile(r"^[\w/]+\.py$")


def modules_on_disk(root: Path = ROOT) -> set[str]:
    """Every module the layout page must name, as a path relative to ``root``."""
    found = {"app.py"}
    for package in PACKAGES:
        found |= {f"{package}/{p.name}" for p in (root / package).glob("*.py")}
    found |= {f"tests/{p.name}" for p in (root / "tests").glob("*.py")}
    # Helper modules of the test suites (not tests, not fixtures: those are in testing.md).
    for path in (root / "tests").glob("*/*.py"):
        if not path.name.startswith("test_") and path.name != "conftest.py":
            found.add(path.relative_to(root).as_posix())
    return {m for m in found if not m.endswith("__init__.py")}


def modules_on_page(page: str) -> set[str]:
    """The modules the page's tree names: the leading ``*.py`` words of each line, under the
    directory of the last unindented line that names one (``chalicelib/``)."""
    tree = page.split("```")[1]
    directory = ""
    named = set()
    for line in tree.splitlines():
        words = line.split()
        if not words:
            continue
        if not line.startswith(" "):
            directory = words[0] if words[0].endswith("/") else ""
        for word in words:
            if not MODULE.match(word):
                break
            named.add(directory + word)
    return named


def test_the_layout_page_names_every_module_and_only_modules_that_exist():
    on_page, on_disk = modules_on_page(LAYOUT.read_text()), modules_on_disk()
    assert sorted(on_disk - on_page) == [], "modules missing from docs/layout.md"
    assert sorted(on_page - on_disk) == [], "docs/layout.md names modules that do not exist"


def test_a_module_missing_from_the_page_is_reported(tmp_path):
    for path in ("app.py", "chalicelib/orders.py", "chalicelib/new.py", "tests/factories.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / "tests" / "e2e").mkdir()
    (tmp_path / "tests" / "e2e" / "concurrency.py").write_text("")
    (tmp_path / "tests" / "e2e" / "test_x.py").write_text("")
    page = (
        "```\napp.py  routes\nchalicelib/  code\n  orders.py  the domain (not tokens.py)\n"
        "tests/\n  factories.py\n```\n"
    )
    for package in PACKAGES[1:]:
        (tmp_path / package).mkdir()
    assert modules_on_disk(tmp_path) - modules_on_page(page) == {
        "chalicelib/new.py",
        "tests/e2e/concurrency.py",
    }


# --- the import graph of the Lambda code (app.py and chalicelib/) --------------------------


def imports_of(path: Path, runtime_only: bool = False) -> set[str]:
    """The modules ``path`` imports, anywhere in it (function-level imports too), by dotted
    name; ``from chalicelib import x`` counts as ``chalicelib.x``. With ``runtime_only``,
    imports under ``if TYPE_CHECKING:`` are left out."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def lambda_modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    found |= {f"chalicelib.{p.stem}": p for p in (ROOT / "chalicelib").glob("*.py")}
    return found


def import_graph(runtime_only: bool = False) -> dict[str, set[str]]:
    """Module -> the project modules it imports, over app.py and chalicelib/."""
    modules = lambda_modules()
    return {
        name: {i for i in imports_of(path, runtime_only) if i in modules and i != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path (first module repeated at the end), or []."""
    done: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        if node in stack:
            return [*stack[stack.index(node) :], node]
        if node in done:
            return []
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        stack.pop()
        done.add(node)
        return []

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return []


def domain_modules(graph: dict[str, set[str]]) -> set[str]:
    """The domain, as the README draws it: every chalicelib module that uses the data layer
    (a model or a conditional write) at run time."""
    return {m for m, targets in graph.items() if targets & DATA_LAYER} - DATA_LAYER - {"app"}


def test_the_lambda_code_imports_nothing_from_outside_it():
    """Not devstack, scripts, bench or tests; and nothing in chalicelib imports app.py."""
    outside = {
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in lambda_modules().items()
        for name in imports_of(path)
        if name.split(".")[0] in OUTSIDE - {module}
    }
    assert sorted(outside) == []


def test_the_lambda_code_has_no_import_cycle():
    assert find_cycle(import_graph()) == []


def test_below_the_domain_nothing_imports_the_domain():
    graph = import_graph(runtime_only=True)
    domain = domain_modules(graph)
    assert {"chalicelib.orders", "chalicelib.users", "chalicelib.products"} <= domain
    upward = {
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module != "app" and module not in domain
        for target in targets & domain
    }
    assert sorted(upward) == []


def test_the_models_import_no_domain_module():
    graph = import_graph()
    assert sorted(graph["chalicelib.models"] & domain_modules(graph)) == []
    assert "chalicelib.transactions" not in graph["chalicelib.models"]


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
