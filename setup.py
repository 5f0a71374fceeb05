"""Only the build step that pyproject.toml cannot say: a wheel carries templates/, locale/ and
migrations/ inside the package (bot/_shipped/), so a non-editable install has everything it
needs. An editable install reads them from the source tree instead (bot/core/resources.py)."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "locale", "migrations")


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        shipped = Path(self.build_lib) / "bot" / "_shipped"
        shutil.rmtree(shipped, ignore_errors=True)  # a file removed from the tree must leave the wheel too
        for name in SHIPPED:
            shutil.copytree(root / name, shipped / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pot"))


setup(cmdclass={"build_py": BuildWithResources})
