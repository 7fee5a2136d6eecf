"""The spec files the jobs read (ncrepro.specs): written where the content changed and only there, so that
a file's time is when its spec last changed (what reruns the jobs that read it)."""

import json
import os

from ncrepro.specs import spec_path, write_spec


def test_a_spec_is_written_once_and_again_only_when_it_changes(tmp_path):
    path = spec_path(str(tmp_path / "results" / "smoke"), "settings", "pfc_mnist")
    assert path.endswith("results/smoke/specs/settings/pfc_mnist.json")
    spec = {"train": {"lr": 0.1}, "name": "pfc_mnist"}
    assert write_spec(path, spec) and json.loads(open(path).read()) == spec
    os.utime(path, (0, 0))
    assert not write_spec(path, dict(reversed(list(spec.items()))))  # the same content in another order
    assert os.stat(path).st_mtime == 0
    assert write_spec(path, {**spec, "train": {"lr": 0.2}}) and os.stat(path).st_mtime > 0
