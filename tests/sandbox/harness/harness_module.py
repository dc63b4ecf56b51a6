"""The sandbox harness as the build joins it (src/sandbox/harness/PARTS, in order), loaded as a
module for unit tests. Loading defines only: the worker runs the harness's main() itself."""
import importlib.util
import os
import sys

PARTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "src", "sandbox", "harness")


def joined_source():
    with open(os.path.join(PARTS_DIR, "PARTS")) as listing:
        parts = [line.strip() for line in listing if line.strip() and not line.startswith("#")]
    text = ""
    for part in parts:
        with open(os.path.join(PARTS_DIR, part)) as source:
            text += source.read()
    return text


def load():
    if "codealign_harness" in sys.modules:
        return sys.modules["codealign_harness"]
    spec = importlib.util.spec_from_loader("codealign_harness", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(joined_source(), os.path.join(PARTS_DIR, "(joined)"), "exec"), module.__dict__)
    sys.modules["codealign_harness"] = module
    return module
