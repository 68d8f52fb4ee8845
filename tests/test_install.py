"""Installing outside the checkout works: the wheel carries every firmware profile.

Builds and installs the package with pip into a temporary target (no dependencies, no build
isolation: hatchling comes from the test extra), then, from a working directory outside the
checkout with only that target (plus this venv's site-packages for numpy etc.) on the path,
loads and decodes every profile.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import imustream
from imustream import profiles
from imustream.sim.encoders import PacketEncoder
import numpy as np
out = {"module": imustream.__file__, "dir": str(profiles.profile_dir()), "profiles": {}}
for name in profiles.names():
    p = profiles.get(name)
    enc = PacketEncoder(p)
    n = enc.samples_per_packet
    payload = enc.encode_all(np.ones((n, 3)), np.zeros((n, 3)), 1.0, 1)[0]
    out["profiles"][name] = p.decode(payload).n
print(json.dumps(out))
"""


@pytest.mark.slow
def test_install_outside_checkout_loads_every_profile(tmp_path):
    pytest.importorskip("hatchling", reason="hatchling (test extra) builds the wheel offline")
    target = tmp_path / "target"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    bundled = target / "imustream" / "firmware_profiles"
    assert sorted(p.name for p in bundled.glob("*.toml")) == sorted(
        p.name for p in (REPO / "firmware_profiles").glob("*.toml")
    )
    assert (bundled / "README.md").is_file()
    assert (bundled / "imustream_open_sensor" / "imustream_open_sensor.ino").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    deps.update(site.getsitepackages())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), *sorted(deps)])
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")
    run = subprocess.run(
        [sys.executable, "-s", "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=elsewhere,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(out["module"]).is_relative_to(target), out["module"]
    assert Path(out["dir"]) == bundled
    assert set(out["profiles"]) == {p.stem for p in (REPO / "firmware_profiles").glob("*.toml")}
    assert all(n >= 1 for n in out["profiles"].values())
