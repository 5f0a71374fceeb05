"""Mutation testing of the pure core: `python -m bench.mutate [MODULE ...] [--sample N] [--seed S]`.

Each mutant changes one thing in one module of bot/core (a comparison, an arithmetic or boolean
operator, a constant, a negated condition, a `raise` or `return` dropped), and the tests that
cover that module run against it; a mutant the tests do not notice survives. Prints the score
per module and every survivor (line, what changed), and writes bench/out/mutation.json.

How: the parent imports the tests' third-party libraries once, then forks a child per mutant;
the child installs the mutated module in sys.modules before anything of ours is imported, and
runs the covering tests in-process (pytest -x, SQLite only, no slow tests). A child that runs
longer than TIMEOUT is killed: an infinite loop counts as killed (the tests noticed).
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib.util
import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "bot" / "core"
OUT = ROOT / "bench" / "out"
TIMEOUT = 120

# The tests that cover each module (their SQLite, fast parts run against every mutant).
PURE = ["tests/test_core_rules.py"]  # test_pure_core starts processes: slow, and checks imports, not rules
SMALL = ["tests/test_core_small.py"]
COVERING = {  # the fast tests of each module: run once per mutant
    "taxid": PURE,
    "credentials": PURE,
    "receiptno": PURE,
    "photocodes": PURE + ["tests/test_thaiqr.py"],
    "statement": PURE,
    "invoice_rows": PURE + ["tests/test_textparse.py", "tests/test_etda.py"] + SMALL,
    "etda": PURE + ["tests/test_etda.py"],
    "schedule": PURE + ["tests/test_schedule.py"],
    "cells": ["tests/test_hostile.py::test_cells_that_a_spreadsheet_would_run_are_neutralised"] + SMALL,
    "money": PURE + ["tests/test_money_dates.py"] + SMALL,
    "thaiqr": PURE + ["tests/test_thaiqr.py"] + SMALL,
    "chain": SMALL + ["tests/test_audit_chain.py::test_links_hold_the_canonical_text_of_awkward_rows"],
    "clientip": SMALL,
    "dates": PURE + ["tests/test_money_dates.py"] + SMALL,
    "delivery": SMALL,
    "errors": SMALL,
    "i18n": SMALL,
    "masking": SMALL,
    "refs": SMALL,
    "resources": SMALL,
    "signing": SMALL,
    "tokens": SMALL,
    "textparse": ["tests/test_textparse.py", "tests/test_intent_words.py",
                  "tests/test_language.py::test_a_message_is_in_the_language_of_its_words",
                  "tests/test_said_paid.py::test_a_claim_of_payment_is_told_from_a_question"],
}
# The chain's PostgreSQL form (content_sql) is the text PostgreSQL's triggers link rows with: only a
# test on PostgreSQL compares it with the Python form, so its mutants run that test there too.
POSTGRESQL_TOO = {"chain"}
DEFAULT_MODULES = ["taxid", "credentials", "receiptno", "photocodes", "statement", "invoice_rows", "etda", "schedule"]

_SWAPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.And: ast.Or, ast.Or: ast.And,
}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # which mutation point of the module's tree
    line: int
    what: str


def _points(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every place one mutation can be made, in a fixed order."""
    points = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
                and isinstance(node.value.value, str):
            continue  # a docstring
        if isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in _SWAPS:
            points.append((node, "op"))
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _SWAPS:
                    points.append((node, f"cmp{i}"))
        elif isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value is not None \
                and isinstance(node.value, (int, str)) and not _is_docstring_value(tree, node):
            points.append((node, "const"))
        elif isinstance(node, (ast.If, ast.While)) or isinstance(node, ast.IfExp):
            points.append((node, "not"))
        elif isinstance(node, ast.Raise) or (isinstance(node, ast.Return) and not _returns_none(node)):
            points.append((node, "drop"))  # dropping `return None` changes nothing: not a mutant
    return points


def _returns_none(node: ast.Return) -> bool:
    return node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)


def _is_docstring_value(tree: ast.AST, node: ast.Constant) -> bool:
    for parent in ast.walk(tree):
        body = getattr(parent, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and body[0].value is node:
            return True
    return False


def _mutate(tree: ast.AST, index: int) -> tuple[ast.AST, int, str]:
    tree = copy.deepcopy(tree)
    node, kind = _points(tree)[index]
    line = getattr(node, "lineno", 0)
    if kind == "op":
        new = _SWAPS[type(node.op)]
        what = f"{type(node.op).__name__} -> {new.__name__}"
        node.op = new()
    elif kind.startswith("cmp"):
        i = int(kind[3:])
        new = _SWAPS[type(node.ops[i])]
        what = f"{type(node.ops[i]).__name__} -> {new.__name__}"
        node.ops[i] = new()
    elif kind == "const":
        old = node.value
        node.value = old + 1 if isinstance(old, int) else ("XX" if old != "XX" else "YY")
        what = f"{old!r} -> {node.value!r}"
    elif kind == "not":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        what = "condition negated"
    else:  # drop a raise or a return: the statement becomes `pass` (a return gives None)
        what = f"{type(node).__name__.lower()} dropped"
        node.__class__ = ast.Pass
        for field in ("exc", "cause", "value"):
            if hasattr(node, field):
                delattr(node, field)
    return ast.fix_missing_locations(tree), line, what


SOURCES: dict[str, str] = {}  # read once: a child mutates what was listed, even if the file changes meanwhile


def _source(module: str) -> str:
    if module not in SOURCES:
        SOURCES[module] = (CORE / f"{module}.py").read_text(encoding="utf-8")
    return SOURCES[module]


def mutants(module: str) -> list[Mutant]:
    tree = ast.parse(_source(module))
    out = []
    for i in range(len(_points(tree))):
        _, line, what = _mutate(tree, i)
        out.append(Mutant(module, i, line, what))
    return out


def _run_child(m: Mutant) -> None:
    """In the forked child: install the mutant, run its covering tests, exit 0 if they pass."""
    import pytest

    path = CORE / f"{m.module}.py"
    tree, _, _ = _mutate(ast.parse(_source(m.module)), m.index)
    name = f"bot.core.{m.module}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        exec(compile(tree, str(path), "exec"), mod.__dict__)
    except Exception:
        os._exit(1)  # the mutant does not even import: killed
    import bot.core

    setattr(bot.core, m.module, mod)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    only_sqlite = [] if m.module in POSTGRESQL_TOO else ["-k", "not postgresql"]
    code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "not slow", *only_sqlite,
                        *COVERING[m.module]])
    os._exit(int(code))


def run(m: Mutant) -> bool:
    """True if the tests killed the mutant."""
    pid = os.fork()
    if pid == 0:
        signal.alarm(TIMEOUT)
        try:
            _run_child(m)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(sorted(COVERING))}; default: {' '.join(DEFAULT_MODULES)}")
    parser.add_argument("--sample", type=int, default=0, help="at most N mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=2569)
    parser.add_argument("--out", default=str(OUT / "mutation.json"), help="where the JSON report goes")
    args = parser.parse_args()
    unknown = set(args.modules) - set(COVERING)
    if unknown:
        parser.error(f"no covering tests are named for {', '.join(sorted(unknown))}")
    os.chdir(ROOT)
    os.environ.setdefault("CI", "")  # SQLite only: PostgreSQL is deselected, never failed for
    import importlib

    # Imported once here, shared by every forked child: only our own modules are imported anew.
    for heavy in ("pytest", "hypothesis", "sqlalchemy", "sqlalchemy.orm", "flask", "werkzeug", "babel.dates",
                  "babel.numbers", "linebot.v3.messaging", "linebot.v3.webhooks", "pyotp", "argon2", "segno", "PIL.Image",
                  "fpdf", "pydantic", "time_machine", "defusedxml.ElementTree", "cryptography", "psycopg", "alembic"):
        try:
            importlib.import_module(heavy)
        except ImportError:
            pass

    report = {}
    started = time.perf_counter()
    for module in args.modules or DEFAULT_MODULES:
        found = mutants(module)
        if args.sample and len(found) > args.sample:
            found = sorted(random.Random(args.seed).sample(found, args.sample), key=lambda m: m.index)
        survivors = [m for m in found if not run(m)]
        killed = len(found) - len(survivors)
        score = round(100 * killed / len(found), 1) if found else 100.0
        report[module] = {"mutants": len(found), "killed": killed, "score": score,
                          "survivors": [f"line {m.line}: {m.what}" for m in survivors]}
        print(f"{module:<14} {killed:>4}/{len(found):<4} {score:5.1f} %", flush=True)
        for m in survivors:
            print(f"    survived: bot/core/{module}.py:{m.line}  {m.what}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(
        {"seconds": round(time.perf_counter() - started), "modules": report}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
