"""Shared set-up of the reference tests: where codealign, the probe and the data are, and
helpers to run them. ctest passes the paths in the environment (tests/CMakeLists.txt)."""
import json
import os
import subprocess

import pytest


def _required_path(variable):
    path = os.environ.get(variable, "")
    if not path or not os.path.exists(path):
        raise RuntimeError(f"reference tests: ${variable} ('{path}') does not exist; run them through ctest")
    return path


CODEALIGN = _required_path("CODEALIGN_BINARY")
PROBE = _required_path("CODEALIGN_PROBE")
DATA_DIR = os.environ.get("CODEALIGN_DATA_DIR") or os.environ.get("CODEALIGN_DEFAULT_DATA_DIR", "")
if not os.path.isdir(os.path.join(DATA_DIR, "benchmarks")):
    raise RuntimeError(f"reference tests: data missing at '{DATA_DIR}' (set CODEALIGN_DATA_DIR)")


def run(command, *, input_text=None, check=True):
    """Runs a command; fails the test with its output when it exits non-zero."""
    result = subprocess.run(command, input=input_text, capture_output=True, text=True)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stderr}{result.stdout}")
    return result


def probe(*args):
    """Runs tests/reference/probe.cpp and parses its JSON answer."""
    out = run([PROBE, *map(str, args)]).stdout
    return json.loads(out) if out.strip() else None


def codealign(*args, input_text=None, check=True):
    return run([CODEALIGN, *map(str, args)], input_text=input_text, check=check)
