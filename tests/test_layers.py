"""The import rules of pyproject.toml ([tool.importlinter]) hold, and the check really catches a
break: the same contracts run on a copy of the tree with one forbidden import added."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first: the copy's packages shadow the editable install's.
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_its_import_contracts():
    ran = lint(ROOT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "5 kept, 0 broken" in ran.stdout


def test_no_module_imports_itself_back():
    graph = grimp.build_graph("bot", "handlers", exclude_type_checking_imports=True)  # as lint-imports reads them
    cycles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
              if a < b and a in graph.find_modules_directly_imported_by(b)]
    assert cycles == []
    # Longer circles too: no module reaches back to one that reaches it.
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(imported, module), f"{module} -> {imported} -> ... -> {module}"


@pytest.fixture
def copy(tmp_path):
    for name in ("bot", "handlers", "bench"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "_shipped", "fonts"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _add_import(root: Path, module: str, line: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    text = path.read_text()
    head, _, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + "from __future__ import annotations\n" + line + "\n" + rest)


@pytest.mark.parametrize("module, line, broken", [
    ("bot.core.money", "import flask  # noqa", "The core is pure"),
    ("bot.core.dates", "from bot.data import models  # noqa", "The core is pure"),
    ("bot.runtime.outbox", "from bot.dev import fake_line  # noqa", "Development tools"),
    ("bot.ledger.audit", "from bot.web import pages  # noqa", "Layers"),
    ("bot.data.models", "from bot.ledger import notices  # noqa", "Layers"),
    ("bot.web.pages", "from sqlalchemy import select  # noqa", "reach data only through the ledger"),
    ("handlers.chat", "from bot.data.models import Invoice  # noqa", "reach data only through the ledger"),
    ("bench.common", "from bench import scenarios  # noqa", "no circle"),
])
def test_a_forbidden_import_breaks_the_check(copy, module, line, broken):
    assert lint(copy).returncode == 0  # the copy itself passes: what fails below is the added line
    _add_import(copy, module, line)
    ran = lint(copy)
    assert ran.returncode == 1, ran.stdout
    assert "0 broken" not in ran.stdout
    report = ran.stdout.split("Broken contracts", 1)[1]
    assert broken in report, report
    assert module in report or module.rsplit(".", 1)[1] in report  # the offending import is named
