"""The type stubs describe the real public API: every public name is in
__init__.pyi, and each function's and public method's parameters (names,
order, kinds) are the runtime ones."""
import ast
import functools
import inspect
from pathlib import Path
from typing import Any

import pytest

import fast_litellm

STUB = Path(fast_litellm.__file__).with_name("__init__.pyi")


def _stub_tree():
    return ast.parse(STUB.read_text())


def _params(args: ast.arguments):
    out = []
    for a in args.posonlyargs + args.args:
        out.append((a.arg, "positional"))
    if args.vararg:
        out.append((args.vararg.arg, "var_positional"))
    for a in args.kwonlyargs:
        out.append((a.arg, "keyword_only"))
    if args.kwarg:
        out.append((args.kwarg.arg, "var_keyword"))
    return out


def _runtime_params(fn):
    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.VAR_POSITIONAL: "var_positional",
        inspect.Parameter.KEYWORD_ONLY: "keyword_only",
        inspect.Parameter.VAR_KEYWORD: "var_keyword",
    }
    return [(p.name, kinds[p.kind]) for p in inspect.signature(fn).parameters.values()]


def _python_twin(name):
    """The pure-Python twin of a public class (the readable specification)."""
    import importlib

    sub = fast_litellm._PUBLIC[name][0]
    mod = importlib.import_module("fast_litellm." + sub)
    impl = getattr(mod, "implementation", None)
    try:
        return getattr(impl("python"), name) if impl else None
    except Exception:
        return None


def _declared():
    names = {}
    for node in _stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def test_py_typed_is_shipped():
    assert STUB.with_name("py.typed").exists()


def test_every_public_name_is_in_the_stub():
    declared = _declared()
    missing = [n for n in fast_litellm.__all__ if n not in declared]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(n for n, node in _declared().items()
                                        if isinstance(node, ast.FunctionDef)))
def test_function_signatures_match(name):
    node = _declared()[name]
    try:
        runtime = _runtime_params(getattr(fast_litellm, name))
    except ValueError:  # a C function without a text signature
        pytest.skip("no runtime signature for %s" % name)
    assert _params(node.args) == runtime


@pytest.mark.parametrize("name", sorted(n for n, node in _declared().items()
                                        if isinstance(node, ast.ClassDef)))
def test_class_methods_match(name):
    node = _declared()[name]
    cls = getattr(fast_litellm, name)
    twin = _python_twin(name)
    for item in node.body:
        if not isinstance(item, ast.FunctionDef):
            continue
        runtime = inspect.getattr_static(cls, item.name, None)
        assert runtime is not None, "%s.%s missing at run time" % (name, item.name)
        if isinstance(runtime, (property, functools.cached_property)):
            continue
        if item.name == "__init__":
            rt = _runtime_params(cls)  # the class's call signature
            if rt == [("args", "var_positional"), ("kwargs", "var_keyword")] and twin is not None:
                rt = _runtime_params(twin)
            assert _params(item.args)[1:] == rt, "%s(): stub %s, runtime %s" % (
                name, _params(item.args)[1:], rt)
            continue
        fn = getattr(cls, item.name)
        try:
            rt = _runtime_params(fn)
        except (TypeError, ValueError):
            rt = None  # a C method without a text signature
        if (rt is None or rt[-2:] == [("args", "var_positional"), ("kwargs", "var_keyword")]) \
                and twin is not None:
            rt = _runtime_params(getattr(twin, item.name))  # the twin is the specification
        if rt is None:
            continue
        stub = _params(item.args)
        if item.name == "__init__" or not isinstance(runtime, (staticmethod, classmethod)):
            stub = stub[1:]
            rt = rt[1:] if rt and rt[0][0] == "self" else rt
        assert stub == rt, "%s.%s: stub %s, runtime %s" % (name, item.name, stub, rt)


def _same_annotation(stub: str, runtime) -> bool:
    text = runtime if isinstance(runtime, str) else inspect.formatannotation(runtime)
    return stub.replace(" ", "") == text.replace("typing.", "").replace(" ", "").replace("'", "")


@pytest.mark.parametrize("name", sorted(n for n, node in _declared().items()
                                        if isinstance(node, ast.FunctionDef)))
def test_function_return_annotations_match(name):
    """Where a public function annotates its return, the stub says the same
    (cleanup_expired_connections returned the int count, the stub said None)."""
    node = _declared()[name]
    try:
        runtime = inspect.signature(getattr(fast_litellm, name)).return_annotation
    except ValueError:  # a C function without a text signature
        pytest.skip("no runtime signature for %s" % name)
    if runtime is inspect.Signature.empty or runtime in ("Any", Any):
        pytest.skip("%s does not annotate a specific return" % name)
    assert _same_annotation(ast.unparse(node.returns), runtime)
