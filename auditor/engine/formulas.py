"""A safe evaluator for RDS DB parameter formulas (engine-default values such as max_connections).

Aurora engine defaults are often formulas, e.g. `LEAST({DBInstanceClassMemory/9531392},5000)` or
`GREATEST(${DBInstanceVCPU*2},8)`. AWS documents the grammar in the Aurora User Guide, "Specifying DB
parameters" (USER_ParamValuesRef): a formula is enclosed in braces `{...}`; its variables are
AllocatedStorage, DBInstanceClassMemory, DBInstanceVCPU, EndPointPort and TrueIfReplica (case-sensitive);
its operators are `/` (the integer quotient, fraction truncated, not rounded) and `*` (product, fraction
truncated); the functions are IF, GREATEST, LEAST and SUM (names case-sensitive, at least one argument),
plus log expressions. Aurora PostgreSQL defaults also write a `$` before the brace (`${DBInstanceVCPU*2}`).

Here the text is parsed with `ast` (never eval) and only a whitelist of nodes is walked: integer literals,
the variables the caller supplies, `+ - * /` and calls of GREATEST / LEAST / SUM. Anything else —
log expressions, IF, TrueIfReplica / AllocatedStorage (meaningless for an Aurora instance class here),
attribute access, other names or calls, floats, strings — makes the result None (unknown), never an error.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

# The variables this auditor can supply for an Aurora PostgreSQL instance (see instance_classes.py).
VARIABLES = ("DBInstanceClassMemory", "DBInstanceVCPU")

_FUNCTIONS: dict[str, Callable[[list[int]], int]] = {
    "GREATEST": max,
    "LEAST": min,
    "SUM": sum,
}
_MAX_LEN = 500  # AWS parameter values are short; refuse pathological input before parsing
_MAX_ABS = 1 << 80  # no RDS parameter comes near this; stops `9**9**9`-style blow-ups (** is refused anyway)
_LOOKS_LIKE = re.compile(r"[{}]|^\s*[A-Za-z_]+\s*\(")


def is_formula(value: object) -> bool:
    """True for a parameter value written as an RDS formula or function (not a plain number or word)."""
    return isinstance(value, str) and bool(_LOOKS_LIKE.search(value))


def _to_python(text: str) -> str | None:
    """`LEAST({A/2},5)` / `${A*2}` as a Python expression (braces become parentheses), or None."""
    if len(text) > _MAX_LEN:
        return None
    out = text.replace("${", "{").replace("{", "(").replace("}", ")")
    return None if "$" in out else out


def _trunc_div(a: int, b: int) -> int | None:
    if b == 0:
        return None
    q = abs(a) // abs(b)  # RDS: "the fraction is truncated, not rounded" — toward zero
    return q if (a >= 0) == (b >= 0) else -q


def _eval(node: ast.AST, env: Mapping[str, int | None]) -> int | None:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        v = node.value
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    if isinstance(node, ast.Name):
        return env.get(node.id) if node.id in VARIABLES else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        x = _eval(node.operand, env)
        return None if x is None else (-x if isinstance(node.op, ast.USub) else x)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        a, b = _eval(node.left, env), _eval(node.right, env)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Add):
            r: int | None = a + b
        elif isinstance(node.op, ast.Sub):
            r = a - b
        elif isinstance(node.op, ast.Mult):
            r = a * b
        else:
            r = _trunc_div(a, b)
        return r if r is None or abs(r) <= _MAX_ABS else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and node.args
        and not node.keywords
    ):
        args = [_eval(a, env) for a in node.args]
        if any(a is None for a in args):
            return None
        return _FUNCTIONS[node.func.id]([a for a in args if a is not None])
    return None  # attribute access, subscripts, other calls/names, comparisons, log(...), IF(...)


def evaluate(text: str, memory_bytes: int | None = None, vcpu: int | None = None) -> int | None:
    """The integer a formula gives for an instance, or None when it cannot be evaluated safely.

    `memory_bytes` is DBInstanceClassMemory and `vcpu` DBInstanceVCPU; a formula that uses a variable
    passed as None is unknown (None). A plain integer string evaluates to itself.
    """
    expr = _to_python(text.strip())
    if not expr:
        return None
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return None
    env = {"DBInstanceClassMemory": memory_bytes, "DBInstanceVCPU": vcpu}
    try:
        return _eval(tree, env)
    except RecursionError:
        return None
