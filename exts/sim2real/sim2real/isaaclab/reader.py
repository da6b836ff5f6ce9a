"""Reading Isaac Lab event terms from a Python module without running or importing it (``ast``).

What it understands is what Isaac Lab's task configs write::

    import isaaclab.envs.mdp as mdp                    # or a task's own mdp package (it re-exports it)
    from isaaclab.managers import EventTermCfg as EventTerm
    from isaaclab.managers import SceneEntityCfg

    @configclass
    class EventCfg(BaseEventCfg):                      # bases in the same module are followed
        physics_material = EventTerm(func=mdp.randomize_rigid_body_material, mode="startup", params={...})
        push_robot = None                              # removes an inherited term

Parameter values must be literals: numbers (with ``+ - * /`` and ``math.pi``), strings, booleans,
``None``, tuples, lists, dicts and ``SceneEntityCfg("name", body_names=..., joint_names=...)``.
Anything else (a variable, a function call) is a one-line error naming the file, line, term and key.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .terms import Entity, IsaacTerm

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_CONSTANTS = {"math.pi": math.pi, "torch.pi": math.pi, "np.pi": math.pi, "numpy.pi": math.pi}
TERM_KEYS = ("func", "mode", "params", "interval_range_s", "is_global_time", "min_step_count_between_reset")


@dataclass
class ReadTerm:
    """A term as written: ``func`` is the function's name (``mdp.<func>``); ``sources`` keeps each
    param's source text (the type check re-uses it)."""

    term: IsaacTerm
    module: str  # the dotted module the function was taken from ("" when unknown)
    extras: dict[str, Any] = field(default_factory=dict)  # is_global_time, min_step_count_between_reset
    sources: dict[str, str] = field(default_factory=dict)
    error: ConfigError | None = None  # params that could not be read (the importer raises it unless it skips)


@dataclass
class _Names:
    """What the module's imports bind: EventTermCfg / SceneEntityCfg aliases, module aliases."""

    term_cfg: set[str] = field(default_factory=lambda: {"EventTermCfg"})
    entity_cfg: set[str] = field(default_factory=lambda: {"SceneEntityCfg"})
    modules: dict[str, str] = field(default_factory=dict)  # alias -> dotted module
    functions: dict[str, str] = field(default_factory=dict)  # name -> module it was imported from


def read_module(path: str | Path, class_name: str | None = None) -> tuple[str, list[ReadTerm]]:
    """(class name, its terms in order) of the event config class in ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (SyntaxError, ValueError) as exc:
        raise InputError(
            f"{path}:{getattr(exc, 'lineno', '?')}: not valid Python ({getattr(exc, 'msg', exc)})"
        ) from None
    return _Reader(path, text, tree).read(class_name)


class _Reader:
    def __init__(self, path: Path, text: str, tree: ast.Module) -> None:
        self.path, self.text, self.tree = path, text, tree
        self.names = _imports(tree)
        self.classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def fail(self, node: ast.AST, key: str, expected: str, got: Any = ...) -> ConfigError:
        return ConfigError(f"{self.path}:{getattr(node, 'lineno', '?')}", key, expected, got)

    def read(self, class_name: str | None) -> tuple[str, list[ReadTerm]]:
        with_terms = [n for n, c in self.classes.items() if self._has_terms(c)]
        if class_name is None:
            if "EventCfg" in with_terms or len(with_terms) == 1:
                class_name = "EventCfg" if "EventCfg" in with_terms else with_terms[0]
            else:
                expected = "one class of EventTermCfg terms (choose with --class)"
                raise ConfigError(self.path, "class", expected, with_terms or "none")
        if class_name not in self.classes:
            raise ConfigError(
                self.path, "class", f"a class of the module ({', '.join(self.classes) or 'none'})", class_name
            )
        return class_name, list(self._terms(self.classes[class_name], set()).values())

    def _own_terms(self, cls: ast.ClassDef) -> list[tuple[str, ast.expr]]:
        """``name = EventTerm(...)`` and ``name = None`` statements of the class body, in order."""
        out = []
        for node in cls.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and (
                self._is_call(value, self.names.term_cfg) or _is_none(value)
            ):
                out.append((target.id, value))
        return out

    def _has_terms(self, cls: ast.ClassDef) -> bool:
        return any(not _is_none(v) for _, v in self._own_terms(cls))

    def _terms(self, cls: ast.ClassDef, seen: set[str]) -> dict[str, ReadTerm]:
        """Inherited terms first (bases defined in this module), then this class's, ``None`` removing."""
        seen = seen | {cls.name}
        terms: dict[str, ReadTerm] = {}
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self.classes and base.id not in seen:
                terms.update(self._terms(self.classes[base.id], seen))
        for name, value in self._own_terms(cls):
            if _is_none(value):
                terms.pop(name, None)
            else:
                terms[name] = self._term(f"{cls.name}.{name}", name, value)  # type: ignore[arg-type]
        return terms

    def _is_call(self, node: ast.expr, aliases: set[str]) -> bool:
        if not isinstance(node, ast.Call):
            return False
        f = node.func
        return (isinstance(f, ast.Name) and f.id in aliases) or (
            isinstance(f, ast.Attribute) and f.attr in aliases
        )

    def _term(self, where: str, name: str, call: ast.Call) -> ReadTerm:
        if call.args:
            raise self.fail(call, where, "keyword arguments (func=..., mode=..., params=...)")
        kw = {k.arg: k.value for k in call.keywords if k.arg is not None}
        unknown = sorted(set(kw) - set(TERM_KEYS))
        if unknown or "func" not in kw or "mode" not in kw:
            raise self.fail(
                call,
                f"{where}.{unknown[0] if unknown else 'func'}",
                f"EventTermCfg fields func and mode (and {', '.join(TERM_KEYS[2:])})",
            )
        func, module = self._func(kw["func"], where)
        mode = self.value(kw["mode"], f"{where}.mode")
        params_node = kw.get("params")
        error = None
        try:
            params, sources = (
                ({}, {}) if params_node is None else self._params(params_node, f"{where}.params")
            )
        except ConfigError as exc:  # a term we skip anyway (a task's own function) may hold anything
            params, sources, error = {}, {}, exc
        interval = (
            self.value(kw["interval_range_s"], f"{where}.interval_range_s")
            if "interval_range_s" in kw
            else None
        )
        extras = {k: self.value(kw[k], f"{where}.{k}") for k in TERM_KEYS[4:] if k in kw}
        term = IsaacTerm(
            name, func, str(mode), params, tuple(interval) if interval else None, line=call.lineno
        )
        return ReadTerm(term, module, extras, sources, error)

    def _func(self, node: ast.expr, where: str) -> tuple[str, str]:
        """(function name, module it comes from): ``mdp.X`` / ``isaaclab.envs.mdp.X`` / an imported ``X``."""
        if isinstance(node, ast.Attribute):
            root = ast.unparse(node.value)
            return node.attr, self.names.modules.get(root, root)
        if isinstance(node, ast.Name):
            return node.id, self.names.functions.get(node.id, "")
        raise self.fail(
            node, f"{where}.func", "a function such as mdp.randomize_rigid_body_mass", ast.unparse(node)
        )

    def _params(self, node: ast.expr, where: str) -> tuple[dict[str, Any], dict[str, str]]:
        if not isinstance(node, ast.Dict) or any(not _is_str(k) for k in node.keys):
            raise self.fail(node, where, "a dict literal with string keys", ast.unparse(node)[:60])
        params, sources = {}, {}
        for k, v in zip(node.keys, node.values, strict=True):
            key = k.value  # type: ignore[union-attr]
            params[key] = self.value(v, f"{where}.{key}")
            sources[key] = ast.get_source_segment(self.text, v) or ast.unparse(v)
        return params, sources

    def value(self, node: ast.expr, where: str) -> Any:
        """A literal value (see the module docstring)."""
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, int | float | str)
        ):
            return node.value
        if isinstance(node, ast.Tuple | ast.List):
            items = [self.value(e, where) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict) and all(_is_str(k) for k in node.keys):
            return {
                k.value: self.value(v, f"{where}.{k.value}")  # type: ignore[union-attr]
                for k, v in zip(node.keys, node.values, strict=True)
            }
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = self._number(node.operand, where)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](self._number(node.left, where), self._number(node.right, where))
        if isinstance(node, ast.Attribute) and ast.unparse(node) in _CONSTANTS:
            return _CONSTANTS[ast.unparse(node)]
        if self._is_call(node, self.names.entity_cfg):
            return self._entity(node, where)  # type: ignore[arg-type]
        raise self.fail(
            node,
            where,
            "a literal (numbers, strings, tuples, lists, dicts, SceneEntityCfg(...))",
            ast.unparse(node)[:60],
        )

    def _number(self, node: ast.expr, where: str) -> float:
        v = self.value(node, where)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(node, where, "a number", v)
        return v

    def _entity(self, call: ast.Call, where: str) -> Entity:
        args = [self.value(a, where) for a in call.args]
        kw = {k.arg: self.value(k.value, f"{where}.{k.arg}") for k in call.keywords if k.arg}
        name = args[0] if args else kw.pop("name", None)
        if not isinstance(name, str) or len(args) > 1:
            raise self.fail(call, where, "SceneEntityCfg('asset name', body_names=..., joint_names=...)")
        allowed = {"body_names", "joint_names", "preserve_order"}
        if set(kw) - allowed:
            raise self.fail(
                call,
                f"{where}.{min(set(kw) - allowed)}",
                "SceneEntityCfg selectors body_names or joint_names (names, not ids)",
            )
        return Entity(name, _names(kw.get("body_names")), _names(kw.get("joint_names")))


def _names(v: Any) -> tuple[str, ...] | None:
    if v is None:
        return None
    return (v,) if isinstance(v, str) else tuple(str(x) for x in v)


def _is_str(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _imports(tree: ast.Module) -> _Names:
    names = _Names()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names.modules[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for a in node.names:
                bound = a.asname or a.name
                if a.name == "EventTermCfg":
                    names.term_cfg.add(bound)
                elif a.name == "SceneEntityCfg":
                    names.entity_cfg.add(bound)
                else:  # a module (``from isaaclab.envs import mdp``) or a function (``from .mdp import f``)
                    names.modules[bound] = f"{base}.{a.name}" if base else a.name
                    names.functions[bound] = base
    return names
