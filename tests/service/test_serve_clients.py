"""`codealign serve` under the real clients from PyPI: verl's SandboxFusion reward client
(`check_correctness`, its file loaded by path: verl's package __init__ needs torch and ray) and
the `sandbox-fusion` client, at verl's own concurrency (32 requests in flight) on 2 workers.

verl gives each request compile_timeout + run_timeout + 10 s, retries HTTP 504 only (three
attempts in all) and scores every other failure -1, "API error". So under a queue longer than
that, the server must answer 504 before the client gives up, and the retry must not go to the
back of the line again. Every verdict here must be right; none may be an API error."""
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import sandbox_fusion

from test_serve import Server


def load_verl_client():
    package = importlib.util.find_spec("verl")  # finds it without running verl/__init__.py
    path = os.path.join(package.submodule_search_locations[0], "utils", "reward_score", "sandbox_fusion", "utils.py")
    spec = importlib.util.spec_from_file_location("verl_sandbox_fusion_utils", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verl = load_verl_client()

# A program per case, chosen by its stdin: print the answer after burning `cpu` seconds of its own
# CPU time (the same work on any machine), or loop forever.
PROGRAM = """
import sys, time
kind, n, cpu = sys.stdin.read().split()
if kind == "forever":
    while True:
        pass
while time.process_time() < float(cpu):
    pass
print("output_" + n)
"""


@pytest.fixture(scope="module")
def server():
    # CODEALIGN_SERVE_ARGS="--deadline-slack 0" shows the behaviour before deadlines (docs/BENCHMARKS.md).
    server = Server("-j", "2", *os.environ.get("CODEALIGN_SERVE_ARGS", "").split())
    yield server
    server.stop()


def test_verl_integration_cases(server):
    """verl's own integration tests (tests/utils/reward_score/reward_score/test_sandbox_fusion_on_cpu.py)."""
    url = server.url + "/run_code"
    code = "import sys\ndata = sys.stdin.read()\nprint({'input1': 'output1', 'input2': 'output2'}.get(data, '?'))\n"
    results, metadata = verl.check_correctness(url, {"inputs": ["input1", "input2"], "outputs": ["output1\n", "output2\n"]}, code)
    assert results == [True, True] and metadata[0]["stdout"] == "output1\n"
    results, metadata = verl.check_correctness(url, {"inputs": ["input1"], "outputs": ["other\n"]}, code)
    assert results == [False] and metadata[0]["status"] == "wrong_answer"
    results, metadata = verl.check_correctness(url, {"inputs": [""], "outputs": [""]}, "raise ValueError('bad')")
    assert results == [-2] and metadata[0]["status"] == "runtime_error"
    results, metadata = verl.check_correctness(url, {"inputs": [""], "outputs": [""]}, "import time\ntime.sleep(10)",
                                               timeout=2)
    assert results == [-3] and metadata[0]["status"] == "timeout"
    # C++ is not served: the answer says so (SandboxError, which verl scores -1 as it does any sandbox error).
    results, metadata = verl.check_correctness(url, {"inputs": [""], "outputs": [""]}, "int main() {}", language="cpp")
    assert results == [-1] and metadata[0]["status"] == "sandbox_error"
    assert "runs python only" in metadata[0]["api_response"]["message"]


def test_verl_high_load_of_cpu_bound_cases_gets_no_api_error(server):
    """64 cases of 0.9 s of CPU each and 4 that loop forever, 32 at a time on 2 workers, with a 2 s
    limit: requests wait about 14 s in line, longer than the 11 s a job may wait and still finish
    inside verl's 14 s. They are answered 504, retried, and then served first. (ctest runs this
    file alone: the sizing holds for 2 free cores, README "Serve the sandbox over HTTP".)"""
    late_before = server.metrics()["codealign_requests_refused_late_total"]
    forever = {5, 30, 45, 60}
    inputs = [f"forever {i} 0" if i in forever else f"cpu {i} 0.9" for i in range(68)]
    outputs = [f"output_{i}\n" if i % 10 != 3 else f"wrong_{i}\n" for i in range(68)]
    results, metadata = verl.check_correctness(server.url + "/run_code", {"inputs": inputs, "outputs": outputs}, PROGRAM,
                                               timeout=2)
    expected = [-3 if i in forever else (False if i % 10 == 3 else True) for i in range(68)]
    wrong = [(i, results[i], metadata[i]["status"], metadata[i].get("api_request_error"))
             for i in range(68) if results[i] != expected[i]]
    assert not wrong, f"{len(wrong)} wrong verdicts, e.g. {wrong[:5]}"
    # The queue was longer than one attempt's patience: the 504-and-retry path was taken.
    assert server.metrics()["codealign_requests_refused_late_total"] > late_before


def test_sandbox_fusion_client_under_the_same_load(server):
    """The sandbox-fusion client (no timeout of its own; retries any failure) gets every answer right."""
    def run(i):
        request = sandbox_fusion.RunCodeRequest(code=PROGRAM, stdin=f"cpu {i} 0.5", language="python", run_timeout=2)
        return sandbox_fusion.run_code(request, endpoint=server.url)

    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(run, range(48)))
    for i, response in enumerate(responses):
        assert response.status == sandbox_fusion.RunStatus.Success, (i, response)
        assert response.run_result.stdout == f"output_{i}\n"
