"""One source of truth for dependencies: pyproject.toml's ranges, requirements.lock's pins (what `make
venv` installs), and the conda files that must agree with them; every declared package is used."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_TOOLS = {"snakemake", "snakemake-executor-plugin-slurm"}  # the workflow's process, not its jobs
IMPORT_NAMES = {"scikit-learn": "sklearn", "pyyaml": "yaml", "pillow": "PIL"}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    return runtime, [Requirement(r) for r in project["optional-dependencies"]["dev"]]


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[normal(name)] = version
    return pins


def conda_pins(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert all("==" in p for p in pip), f"{path.name}: every pip entry is pinned ({pip})"
    return {normal(p.split("==")[0]): p.split("==")[1] for p in pip}


def test_the_lock_pins_every_declared_package_within_its_range():
    runtime, dev = declared()
    pins = lock()
    for req in runtime + dev:
        assert normal(req.name) in pins, f"{req.name} is declared but not locked"
        assert pins[normal(req.name)] in req.specifier, f"{req.name}=={pins[normal(req.name)]} outside {req.specifier}"


def test_conda_files_agree_with_the_lock_and_the_job_environment_is_lean():
    runtime, dev = declared()
    pins = lock()
    everything = {normal(r.name) for r in runtime + dev}
    env = conda_pins(ROOT / "environment.yml")
    assert set(env) == everything and all(env[n] == pins[n] for n in env)
    jobs = conda_pins(ROOT / "workflow" / "envs" / "ncrepro.yaml")
    assert set(jobs) == {normal(r.name) for r in runtime} - WORKFLOW_TOOLS
    assert all(jobs[n] == pins[n] for n in jobs)
    assert "-e" not in (ROOT / "workflow" / "envs" / "ncrepro.yaml").read_text().split()


def test_every_runtime_dependency_is_used():
    runtime, _ = declared()
    code = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    for req in runtime:
        name = normal(req.name)
        if name in WORKFLOW_TOOLS:
            continue
        module = IMPORT_NAMES.get(name, name)
        assert re.search(rf"^\s*(import|from) {module}\b", code, re.M), f"{req.name} is declared but never imported"
