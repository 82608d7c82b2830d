"""The floors of ARCHITECTURE.md, read from the source: code calls downward only
(routes -> services -> models -> extensions), and imports stand at the top of their module."""

import ast
import functools
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ROUTES, SERVICES, MODELS, EXTENSIONS = 1, 2, 3, 4
FLOOR_NAMES = {ROUTES: "routes", SERVICES: "services", MODELS: "models", EXTENSIONS: "extensions"}
#: Entry points above the rooms: the factory (which imports every view once every package
#: exists) and the command line.
ENTRY_POINTS = {"app", "app.cli"}
#: Where an import inside a function is the design: the factory imports the views and the
#: hooks once every package exists (ARCHITECTURE.md, "Domains and their views").
FUNCTION_IMPORTS_ALLOWED = {"app"}
#: Libraries imported where they are used: each is slow to import, or (zxcvbn's lists) large in
#: memory, and most processes (a web worker serving pages, the scheduler) never use them.
LAZY_LIBRARIES = {"weasyprint", "docx", "pypdf", "openpyxl", "icalendar", "apscheduler", "zxcvbn"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()
#: One worker runs these tests (pytest.ini runs ``--dist loadgroup``): it alone parses app/.
pytestmark = pytest.mark.xdist_group("floors")


@functools.cache
def parsed(module: str) -> ast.Module:
    """The module's syntax tree, parsed when a test first asks (not when each worker collects)."""
    return ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))


def floor(module: str) -> int | None:
    """The module's floor, or None for the modules beside the floors (permissions, audit, ...),
    which are judged by what they import."""
    parts = module.split(".")
    if module in ENTRY_POINTS:
        return ROUTES
    if module == "app.extensions":
        return EXTENSIONS
    if parts[-1] == "models" or module == "app.dbtypes":
        return MODELS
    if len(parts) == 2:
        # A room's package defines its blueprint only; a top-level module is beside the floors.
        return ROUTES if MODULES[module].name == "__init__.py" else None
    if parts[-1] in ("forms", "pages", "cli") or parts[-1].endswith("routes"):
        return ROUTES
    return SERVICES


def imports(module: str, *, nested: bool = False) -> list[tuple[str, int]]:
    """The app modules ``module`` imports (a ``from package import submodule`` names the
    submodule), with their lines; ``nested``: only the imports inside a function or class."""
    found = []
    top = set() if nested else None
    tree = parsed(module)
    if nested:
        top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if top is not None and id(node) in top:
            continue
        if nested and not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.append((name if name in MODULES else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
    return [(name, line) for name, line in found if nested or name in MODULES]


def _reached(module: str) -> list[tuple[list[str], int]]:
    """Each floored module ``module`` reaches, through the modules beside the floors: its path."""
    paths, seen, todo = [], {module}, [[module]]
    while todo:
        path = todo.pop()
        for target, _line in imports(path[-1]):
            if target in seen:
                continue
            seen.add(target)
            target_floor = floor(target)
            if target_floor is None:
                todo.append(path + [target])
            else:
                paths.append((path + [target], target_floor))
    return paths


def test_every_room_module_has_a_floor_and_the_floors_are_all_used():
    floors = {name: floor(name) for name in MODULES}
    assert floors["app.milestones.routes"] == ROUTES
    assert floors["app.milestones.date_changes"] == SERVICES
    assert floors["app.milestones.models"] == MODELS
    assert floors["app.extensions"] == EXTENSIONS
    assert floors["app.permissions"] is None
    assert set(floors.values()) == {ROUTES, SERVICES, MODELS, EXTENSIONS, None}


def test_no_module_imports_from_a_floor_above_it():
    climbs = []
    for module in sorted(MODULES):
        own = floor(module)
        if own is None:
            continue
        for path, reached in _reached(module):
            if reached < own:
                climbs.append(
                    f"{' -> '.join(path)}: {FLOOR_NAMES[own]} reaches {FLOOR_NAMES[reached]}, a floor above it"
                )
    assert climbs == []


def test_the_beside_modules_import_no_view():
    """permissions, audit, history...: used by every floor, so they reach no routes."""
    climbs = [
        f"{' -> '.join(path)}"
        for module in sorted(MODULES)
        if floor(module) is None
        for path, reached in _reached(module)
        if reached == ROUTES and not (path[-1].count(".") == 1 and MODULES[path[-1]].name == "__init__.py")
    ]
    assert climbs == []


def test_imports_stand_at_the_top_of_their_module():
    """An import inside a function hides a cycle or a slow start; where a module-level import
    works, it is one."""
    nested = [
        f"{MODULES[module].relative_to(APP.parent)}:{line} imports {name}"
        for module in sorted(MODULES)
        if module not in FUNCTION_IMPORTS_ALLOWED
        for name, line in imports(module, nested=True)
        if name.split(".")[0] not in LAZY_LIBRARIES
    ]
    assert nested == []


def test_the_check_sees_a_climb_and_a_nested_import():
    """The rules above find what they look for: a model importing a service would be caught."""
    assert floor("app.comments.routes") == ROUTES
    assert ("app.comments.services", 5) in imports("app.comments.routes")
    assert any(path[-1] == "app.extensions" for path, _ in _reached("app.milestones.models"))
    assert imports("app", nested=True), "the factory's imports are inside create_app"
    assert any(name.startswith("weasyprint") for name, _ in imports("app.exports.plan", nested=True))
    # dashboard/routes reaches a service and another room's view, so a model reaching either is seen
    reached = {path[-1]: found for path, found in _reached("app.dashboard.routes")}
    assert reached["app.dashboard.filters"] == SERVICES < floor("app.milestones.models")
    assert reached["app.notifications.routes"] == ROUTES
