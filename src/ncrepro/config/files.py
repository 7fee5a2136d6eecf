"""The configuration's files: where they are found, how they are read, validated against the package's
``schemas/*.schema.yaml`` (a bad key is reported with the file and key path it came from, in one line:
:class:`ConfigError`), and how ``--config key=value`` text becomes the numbers the schemas ask for.

The paper and scale files are read from the folder of the config file in use (``config/papers/``,
``config/scales/`` beside ``config/config.yaml``, as a deployed ``config/`` holds them), else from the
copies the project ships (:func:`shipped_config`), so a workflow deployed elsewhere or a non-editable
install finds them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..errors import ConfigError


def shipped_config() -> Path:
    """The project's own ``config/`` folder: the checkout's when the package runs from one (``src/`` layout,
    editable install), else the copy a non-editable install carries as ``ncrepro/_config`` (pyproject)."""
    package = Path(__file__).resolve().parents[1]
    if package.parent.name == "src" and (package.parents[1] / "config" / "papers").is_dir():
        return package.parents[1] / "config"
    return Path(str(resources.files("ncrepro") / "_config"))


def config_file(relative: str, config_dirs: Iterable[Path]) -> Path:
    """``relative`` (e.g. ``papers/pfc.yaml``) in the folder of the config file in use -- the last given
    first -- else in :func:`shipped_config`."""
    for folder in [*reversed([Path(d) for d in config_dirs]), shipped_config()]:
        if (folder / relative).is_file():
            return folder / relative
    return shipped_config() / relative


def where(path: Path) -> str:
    """``path`` as error messages name it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def load_yaml(path: Path) -> Any:
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc


def _schema_dir() -> Path:
    return Path(str(resources.files("ncrepro") / "schemas"))


def schema(name: str) -> dict:
    return load_yaml(_schema_dir() / f"{name}.schema.yaml")


def drop_required(schema: Any) -> Any:
    """The same schema with every ``required`` list removed (for partial override layers)."""
    if isinstance(schema, dict):
        return {k: drop_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [drop_required(v) for v in schema]
    return schema


def _key_path(prefix: str, path) -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in path]
    return ".".join(parts) or "<top level>"


def validate(instance: Any, schema: dict, where: str, prefix: str) -> None:
    validator = jsonschema.Draft202012Validator(schema, registry=_schema_registry())
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/anyOf to the most specific message.
    while err.context:
        err = jsonschema.exceptions.best_match(err.context)
    message = err.message
    if err.validator == "additionalProperties":
        message = message.replace("Additional properties are not allowed", "unknown key")
    raise ConfigError(f"{where}: {_key_path(prefix, err.absolute_path)}: {message}")


@functools.cache
def _schema_registry():
    """A referencing registry so that ``$ref: scale.schema.yaml`` resolves between schema files."""
    from referencing import Registry, Resource

    paths = sorted(_schema_dir().glob("*.schema.yaml"))
    return Registry().with_resources([(path.name, Resource.from_contents(load_yaml(path))) for path in paths])


def _scalar(text: str, types) -> Any:
    """``text`` read as the first of the schema ``types`` it parses as (integer, number, boolean, null),
    else None."""
    for kind in [types] if isinstance(types, str) else types:
        try:
            if kind == "integer" and text.strip().lstrip("+-").isdigit():
                return int(text)
            if kind == "number":
                return float(text)
            if kind == "boolean" and text.strip().lower() in ("true", "false"):
                return text.strip().lower() == "true"
        except ValueError:
            continue
    return None


def coerce(instance: Any, schema: dict) -> Any:
    """``instance`` with every string that stands where the schema wants a number, an integer or a boolean
    converted (``--config key=value`` hands nested values over as text, e.g. ``lr: '0.02'``); what does
    not convert is left for validation to report."""
    validator = jsonschema.Draft202012Validator(schema, registry=_schema_registry())
    seen = set()
    while True:
        candidates = []
        for error in validator.iter_errors(instance):
            candidates += [e for e in [error, *error.context] if e.validator == "type" and isinstance(e.instance, str)]
        for error in candidates:
            path, value = tuple(error.absolute_path), _scalar(error.instance, error.validator_value)
            if value is None or not path or path in seen:
                continue
            seen.add(path)
            parent = instance
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            break
        else:
            return instance
