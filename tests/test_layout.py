"""The package's layering: no import cycle among fastnn's modules, function-level imports
included, and exactly one late-binding point (the Tensor class registering itself with the
autograd primitives it is built on)."""

import ast
import pathlib

import fastnn

PACKAGE_DIR = pathlib.Path(fastnn.__file__).parent
EXTENSIONS = ("_C", "_cuda")


def module_graph(package_dir):
    """{module: set of fastnn modules it imports}, from every import statement in the source
    (at module level or inside functions), relative or absolute."""
    package = package_dir.name
    files = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    known = set(files) | {f"{package}.{ext}" for ext in EXTENSIONS}

    graph = {}
    for name, (path, is_package) in files.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in known else source)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in known and t != name}
    return graph


def cycles(graph):
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_detector_finds_a_cycle_through_a_function_level_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import g\n    return g\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = module_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
    (pkg / "sub" / "b.py").write_text("def f():\n    return 1\n")
    assert cycles(module_graph(pkg)) == []


def test_fastnn_has_no_import_cycle():
    graph = module_graph(PACKAGE_DIR)
    assert len(graph) > 50, sorted(graph)  # the whole package was read
    assert "fastnn._tensor.core" in graph["fastnn._tensor"]
    found = cycles(graph)
    assert not found, "import cycles in fastnn:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_tensor_class_is_bound_late_in_exactly_one_place():
    calls = []
    for path in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == (
                "bind_tensor_class"
            ):
                calls.append(path.relative_to(PACKAGE_DIR).as_posix())
    assert calls == ["_tensor/core.py"]
    from fastnn.autograd import function

    assert function.Tensor is fastnn.Tensor


def test_the_package_does_not_import_itself_from_below():
    """Only the top-level modules (the CLI, the examples, the model zoo) import ``fastnn``
    itself; everything inside imports the module that defines a name."""
    graph = module_graph(PACKAGE_DIR)
    importers = sorted(m for m, targets in graph.items() if "fastnn" in targets)
    allowed = ("fastnn.__main__", "fastnn.examples.")
    assert [m for m in importers if not m.startswith(allowed)] == []
