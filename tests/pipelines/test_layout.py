"""The sample world (pipelines.sample) and the benchmark (pipelines.bench) are not the product core: importing
every other module of ``pipelines`` and running the pipeline never imports them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.sample import generate
from tests.conftest import sample_config

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED = ("pipelines.sample", "pipelines.bench")
# The commands that exist to generate a sample import it lazily, inside the command (never on a run's path).
ALLOWED_LAZY = {("pipelines/cli_sample.py", "generate"), ("pipelines/cli_sample.py", "demo")}

# Imports every module of `pipelines` outside the excluded subpackages, runs `mdm run` in this process and
# prints the loaded modules of the excluded ones. With "leak", the run imports pipelines.sample (the check
# must see it).
PROBE = """
import importlib, json, pkgutil, sys
from pathlib import Path

EXCLUDED = ("pipelines.sample", "pipelines.bench")
config, leak = sys.argv[1], sys.argv[2] == "leak"
imported = []

def walk(path, prefix):
    for info in pkgutil.iter_modules(path, prefix):
        if info.name == "pipelines.__main__" or info.name.startswith(EXCLUDED):
            continue
        mod = importlib.import_module(info.name)
        imported.append(info.name)
        if info.ispkg:
            walk(mod.__path__, info.name + ".")

import pipelines
walk(pipelines.__path__, "pipelines.")
from typer.testing import CliRunner
from pipelines import runner
from pipelines.cli import app

if leak:
    real_run = runner.run
    def run(*args, **kwargs):
        importlib.import_module("pipelines.sample")
        return real_run(*args, **kwargs)
    runner.run = run
res = CliRunner().invoke(app, ["run", "--config", config])
print(json.dumps({"exit_code": res.exit_code, "output": res.output[-2000:], "imported": imported,
                  "loaded": sorted(m for m in sys.modules if m.startswith(EXCLUDED))}))
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("layout")
    generate(tmp / "sample", entities=60, seed=17)
    return sample_config(tmp / "sample", tmp / "warehouse", tmp / "mdm.yaml")


def probe(config: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(config), mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["exit_code"] == 0, result["output"]
    return result


def test_the_run_never_imports_the_sample_world_or_the_benchmark(config: Path) -> None:
    result = probe(config, "plain")
    assert {"pipelines.runner", "pipelines.cli", "pipelines.adapters.sql", "pipelines.warehouse"} <= set(
        result["imported"]
    )
    assert "golden records:" in result["output"].replace("\n", "")
    assert result["loaded"] == []


def test_the_probe_sees_a_run_that_imports_the_sample_world(config: Path) -> None:
    result = probe(config, "leak")
    assert "pipelines.sample" in result["loaded"] and "pipelines.sample.generator" in result["loaded"]


def _imports_of_excluded(path: Path) -> list[tuple[str, int]]:
    """(enclosing top-level function or '', line) of each import of an excluded package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom) and node.module:
            return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        return []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if where == "" and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            if any(n == e or n.startswith(e + ".") for n in names(child) for e in EXCLUDED):
                found.append((inner, child.lineno))
            visit(child, inner)

    visit(tree, "")
    return found


def test_no_product_module_imports_them(tmp_path: Path) -> None:
    leaks = []
    for path in sorted(
        [*(ROOT / "pipelines").rglob("*.py"), *(ROOT / "mdm").rglob("*.py"), *(ROOT / "dags").rglob("*.py")]
    ):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("pipelines/sample/", "pipelines/bench/")):
            continue
        leaks += [(rel, fn, line) for fn, line in _imports_of_excluded(path) if (rel, fn) not in ALLOWED_LAZY]
    assert leaks == []
    # The check finds such an import, at module level or inside a function.
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from pipelines import runner\n\ndef f():\n    from pipelines.sample import generate\n"
        "import pipelines.bench.run\n",
        encoding="utf-8",
    )
    assert _imports_of_excluded(bad) == [("f", 4), ("", 5)]
