"""The pipeline's layering: no stage imports a later one, and no module imports itself round a cycle.

Every module under compiler/ is parsed (ast, so imports inside functions and under TYPE_CHECKING count
too) and placed in one layer of LAYERS by its name; a module may import modules of its own layer or of
earlier ones.  A new module must be given a layer here: an unplaced one fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "compiler"

# Earliest first.  A dotted name stands for that module and, unless a longer name matches, everything under
# it; the package itself ("compiler") stands only for its __init__, so a new module must be placed here.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("compiler", "compiler.records", "compiler.perf", "compiler.source", "compiler.limits",
                    "compiler.regions",
                    "compiler.vocabulary", "compiler.fs", "compiler._scene_tables", "compiler.lalr")),
    ("data", ("compiler.diagnostics", "compiler.nodes", "compiler.ir", "compiler.project", "compiler.media")),
    ("parse", ("compiler.parse",)),
    ("resolve", ("compiler.resolve",)),
    ("plans on the IR", ("compiler.timeline", "compiler.timing")),
    # What every target's body builder and request model share: before the targets, which use them.
    ("emit", ("compiler.payload", "compiler.emit")),
    # The back-ends: one module per model family; the front-end above never imports them.
    ("targets", ("compiler.targets",)),
    # check measures the prompt (the templates render when its bound is near the limit): prompt comes first.
    ("prompt", ("compiler.prompt",)),
    # A target whose request carries each shot's own prompt (Kling's multi_prompt) renders it with prompt.
    ("targets sending shot prompts", ("compiler.targets.kling",)),
    ("check", ("compiler.check",)),
    ("reports", ("compiler.report",)),
    ("lint rules", ("compiler.config", "compiler.suppress", "compiler.explain", "compiler.sarif")),
    ("api and printing", ("compiler.api", "compiler.console")),
    ("lint runs and fixes", ("compiler.lint", "compiler.fixes")),
    ("render: service and journal", ("compiler.render", "compiler.render.errors", "compiler.render.cost",
                                     "compiler.render.journal", "compiler.render.client")),
    ("render: service steps", ("compiler.render.upload", "compiler.render.fetch", "compiler.render.reconcile",
                               "compiler.render.sidecar", "compiler.render.urlcheck")),
    ("render: identity", ("compiler.render.identity",)),
    ("render: results", ("compiler.render.results",)),
    ("render: planning", ("compiler.render.planning",)),
    ("render: execution", ("compiler.render.execute", "compiler.render.cancel", "compiler.render.progress")),
    ("writer's loop", ("compiler.fmt", "compiler.preview", "compiler.preview_server")),
    ("command and server adapters", ("compiler.render.commands", "compiler.writer_commands", "compiler.lsp")),
    ("entry points", ("compiler.cli", "compiler.__main__")),
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules this module imports, anywhere in its text (functions, TYPE_CHECKING blocks)."""
    top = name.split(".")[0]
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            # `from pkg import name`: the submodule when there is one, else the package itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] == top and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def layer_of(name: str, layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS) -> int | None:
    """The index of the layer whose longest matching name covers this module."""
    best: tuple[int, int] | None = None  # (length of the matching name, layer)
    for index, (_, names) in enumerate(layers):
        for prefix in names:
            covers = name == prefix or ("." in prefix and name.startswith(prefix + "."))
            if covers and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return best[1] if best else None


def upward_imports(graph: dict[str, set[str]], layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS) -> list[str]:
    """Every import of a later layer, as 'a (layer) imports b (later layer)'."""
    found = []
    for name, targets in sorted(graph.items()):
        mine = layer_of(name, layers)
        for target in sorted(targets):
            theirs = layer_of(target, layers)
            if mine is not None and theirs is not None and theirs > mine:
                found.append(f"{name} ({layers[mine][0]}) imports {target} ({layers[theirs][0]})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(name: str) -> None:  # recursion depth is bounded by the package's module count
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in sorted(graph.get(name, ())):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A path round the group, from its first module back to it, for the failure message."""
    members, start = set(group), group[0]
    path, seen = [start], {start}
    while True:
        following = sorted(t for t in graph[path[-1]] if t in members)
        if start in following and len(path) > 1:
            return path + [start]
        step = next((t for t in following if t not in seen), start)
        if step == start:
            return path + [start]
        path.append(step)
        seen.add(step)


# --- the package ----------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    unplaced = [name for name in modules() if layer_of(name) is None]
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"


def test_no_stage_imports_a_later_one() -> None:
    assert upward_imports(import_graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_graph_sees_imports_inside_functions_and_relative_ones() -> None:
    graph = import_graph()
    assert "compiler.api" in graph["compiler.cli"]                    # inside run_check
    assert "compiler.render.commands" in graph["compiler.cli"]        # inside add_render_commands
    assert "compiler.resolve.settings" in graph["compiler.fmt"]       # from .resolve.settings import ...
    assert "compiler.render.journal" in graph["compiler.render.execute"]  # from compiler.render import journal as jr


# The front-end: the language itself, target-free (issue 15).  None of these may reach compiler.targets, directly
# or through another module, so what a scene means never depends on the model it is compiled for.
FRONT_END = ("compiler.records", "compiler.perf", "compiler.source", "compiler.lalr", "compiler._scene_tables",
             "compiler.nodes", "compiler.ir", "compiler.vocabulary", "compiler.diagnostics", "compiler.project",
             "compiler.media", "compiler.fs", "compiler.parse", "compiler.resolve", "compiler.timeline",
             "compiler.timing")


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others."""
    seen: set[str] = set()
    waiting = [start]
    while waiting:
        for target in graph.get(waiting.pop(), ()):
            if target not in seen:
                seen.add(target)
                waiting.append(target)
    return seen


def target_imports(graph: dict[str, set[str]], front_end: tuple[str, ...] = FRONT_END) -> list[str]:
    """'a reaches b' for each front-end module (or module under a front-end package) that reaches a target."""
    found = []
    for name in sorted(graph):
        if not any(name == prefix or name.startswith(prefix + ".") for prefix in front_end):
            continue
        found += [f"{name} reaches {target}" for target in sorted(reachable(graph, name))
                  if target == "compiler.targets" or target.startswith("compiler.targets.")]
    return found


def test_no_front_end_module_imports_a_target() -> None:
    graph = import_graph()
    assert all(name in graph or any(n.startswith(name + ".") for n in graph) for name in FRONT_END)
    assert target_imports(graph) == []


# --- the checks themselves can fail --------------------------------------------------------------


def test_a_front_end_module_reaching_a_target_through_another_is_reported(tmp_path: Path) -> None:
    root = _package(tmp_path, {"ir.py": "from . import helper\n", "helper.py": "def f():\n    from .targets import x\n",
                               "targets/__init__.py": "", "parse.py": ""})
    assert target_imports(import_graph(root), ("compiler.ir", "compiler.parse")) == [
        "compiler.ir reaches compiler.targets"]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "compiler"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_an_import_of_a_later_stage_is_reported(tmp_path: Path) -> None:
    root = _package(tmp_path, {"parse.py": "def f():\n    from .check import check\n", "check.py": ""})
    assert upward_imports(import_graph(root)) == ["compiler.parse (parse) imports compiler.check (check)"]


def test_an_import_cycle_is_reported(tmp_path: Path) -> None:
    root = _package(tmp_path, {"cli.py": "from .render import commands\n",
                               "render/__init__.py": "",
                               "render/commands.py": "def f():\n    from compiler.cli import collect\n"})
    assert cycles(import_graph(root)) == [["compiler.cli", "compiler.render.commands", "compiler.cli"]]


@pytest.mark.parametrize(("name", "layer"), [("compiler.resolve.names", "resolve"),
                                             ("compiler.render.commands", "command and server adapters"),
                                             ("compiler.render.journal", "render: service and journal"),
                                             ("compiler", "foundation")])
def test_the_longest_name_places_a_module(name: str, layer: str) -> None:
    found = layer_of(name)
    assert found is not None and LAYERS[found][0] == layer
