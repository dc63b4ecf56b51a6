"""The judge's verdict ladder (src/sandbox/harness/judge.py): the verdict from the child's
reports, its exit status and the clock, and the parsing of those reports (a program can write
anything on its channel). Order of the ladder: timeout, syntax error, load error, the first failed
test, an oversized channel, passed (only with the job's own nonce and no signal), a crash, an early
exit."""
import json
import signal

import pytest

import harness_module

h = harness_module.load()
NONCE = "n0nce"


def assertion_job(tests=2, **fields):
    job = {"script": False, "tests": ["assert f(%d)" % i for i in range(tests)], "stdin_inputs": [], "entry_point": "",
           "nonce": NONCE, "oracle": "", "atol": 0, "record": False, "limits": {"test_output": 1 << 20}, "timeout": 3.0}
    job.update(fields)
    return job


def judged(job, reports, status=0, timed_out=False, expected=None, dropped=False):
    return h.judge(job, reports, status, timed_out, json.dumps(expected) if expected is not None else "", dropped)


PASS = [{"loaded": True}, {"test": 0, "ok": True}, {"test": 1, "ok": True}, {"done": NONCE}]


def test_all_tests_passed_with_the_nonce_is_passed():
    result = judged(assertion_job(), PASS)
    assert (result["verdict"], result["tests_passed"], result["test_passed"]) == ("passed", 2, [True, True])


def test_a_done_line_without_the_jobs_nonce_is_not_a_pass():
    forged = PASS[:-1] + [{"done": "guessed"}]
    result = judged(assertion_job(), forged)
    assert result["verdict"] == "runtime_error" and result["error_type"] == "EarlyExit"


def test_a_pass_by_a_process_killed_by_a_signal_is_a_crash():
    result = judged(assertion_job(), PASS, status=-signal.SIGKILL)
    assert (result["verdict"], result["error_type"]) == ("crashed", "SIGKILL")


@pytest.mark.parametrize("failure, verdict", [
    ({"type": "AssertionError", "message": "assert f(1)"}, "failed"),
    ({"type": "UntrustedValue", "message": "a value the program made"}, "failed"),
    ({"type": "ZeroDivisionError", "message": "division by zero"}, "runtime_error"),
    ({"type": "MemoryError", "message": ""}, "out_of_memory"),
    ({"timeout": True}, "timeout"),
])
def test_the_first_failed_test_decides(failure, verdict):
    reports = [{"loaded": True}, {"test": 0, "ok": True}, {"test": 1, "ok": False, **failure}, {"done": NONCE}]
    result = judged(assertion_job(), reports)
    assert result["verdict"] == verdict
    assert (result["tests_passed"], result["test_passed"]) == (1, [True, False])


def test_the_clock_outranks_everything_the_child_said():
    result = judged(assertion_job(), [{"syntax_error": {"type": "SyntaxError", "message": "x"}}] + PASS, timed_out=True)
    assert (result["verdict"], result["message"]) == ("timeout", "time limit of 3s exceeded")
    assert judged(assertion_job(), PASS, status=-signal.SIGXCPU)["verdict"] == "timeout"  # the CPU limit


def test_syntax_then_load_errors_then_failures():
    syntax = {"syntax_error": {"type": "SyntaxError", "message": "invalid syntax"}}
    load = {"load_error": {"type": "NameError", "message": "name 'x' is not defined"}}
    failed = {"test": 0, "ok": False, "type": "AssertionError", "message": ""}
    assert judged(assertion_job(), [syntax, load, failed])["verdict"] == "syntax_error"
    result = judged(assertion_job(), [load, failed])
    assert (result["verdict"], result["error_type"]) == ("runtime_error", "NameError")
    assert judged(assertion_job(), [{"load_error": {"type": "MemoryError", "message": ""}}])["verdict"] == "out_of_memory"


def test_an_oversized_channel_is_a_runtime_error_unless_a_test_failed_first():
    result = judged(assertion_job(), PASS, dropped=True)
    assert (result["verdict"], result["error_type"]) == ("runtime_error", "OutputTooLarge")


def test_an_exit_before_the_tests_names_where_it_happened():
    assert "while the program was loading" in judged(assertion_job(), [], status=3)["message"]
    assert "before its tests finished" in judged(assertion_job(), [{"loaded": True}], status=0)["message"]


def test_only_the_first_report_of_a_test_counts():
    reports = [{"loaded": True}, {"test": 0, "ok": False, "type": "AssertionError"}, {"test": 0, "ok": True},
               {"test": 1, "ok": True}, {"done": NONCE}]
    assert judged(assertion_job(), reports)["verdict"] == "failed"


def test_recorded_values_are_compared_with_the_expected_outputs():
    job = assertion_job(entry_point="f", inputs=json.dumps([[1], [2]]), tests=0)
    reports = [{"loaded": True}, {"test": 0, "ok": True, "value": h.encode((1, 2))},
               {"test": 1, "ok": True, "value": h.encode(0.30000000000000004)}, {"done": NONCE}]
    assert judged(job, reports, expected=[h.encode((1, 2)), h.encode(0.3)])["verdict"] == "passed"
    result = judged(job, reports, expected=[h.encode([1, 2]), h.encode(0.3)])  # a list is not a tuple
    assert (result["verdict"], result["error_type"], result["test_passed"]) == ("failed", "WrongAnswer", [False, True])


def test_stdin_tests_compare_normalised_output():
    job = assertion_job(tests=0, stdin_inputs=["1\n", "2\n"])
    reports = [{"test": 0, "ok": True, "stdout": "2  \r\n\n"}, {"test": 1, "ok": True, "stdout": "5\n"}, {"done": NONCE}]
    result = judged(job, reports, expected=["2\n", "4\n"])
    assert (result["verdict"], result["test_passed"]) == ("failed", [True, False])
    assert result["message"] == "test 1: output differs from the expected" and result["failed_test_stdout"] == "5\n"


@pytest.mark.parametrize("reports, status, timed_out, verdict, exit_code", [
    ([], 0, False, "passed", 0),
    ([{"exit": True, "type": "ValueError", "message": "bad"}], 1, False, "runtime_error", 1),
    ([{"exit": True, "type": "MemoryError", "message": ""}], 1, False, "out_of_memory", 1),
    ([{"syntax_error": {"type": "SyntaxError", "message": ""}}], 1, False, "syntax_error", 1),
    ([], 2, False, "runtime_error", 2),
    ([], -signal.SIGSEGV, False, "crashed", -signal.SIGSEGV),
    ([], None, True, "timeout", None),
])
def test_scripts_are_judged_by_their_exit(reports, status, timed_out, verdict, exit_code):
    result = judged(assertion_job(script=True), reports, status=status, timed_out=timed_out)
    assert (result["verdict"], result["exit_code"]) == (verdict, exit_code)


def test_reports_of_any_shape_are_parsed_into_the_types_the_judge_reads():
    raw = b"\n".join([
        b'{"test": 0, "ok": true, "time": 0.5}',
        b"not json",
        b"[1, 2]",
        b'{"test": 1, "ok": false, "type": 7, "message": ["x"], "time": "slow"}',
        b'{"load_error": "just a string"}',
        b"[" * 100000,  # too deep for json: skipped, not a crash
        b"",
    ])
    reports = h.parse_reports(raw)
    assert reports == [
        {"test": 0, "ok": True, "time": 0.5},
        {"test": 1, "ok": False, "type": "", "message": "", "time": 0.0},
        {"load_error": {"type": "", "message": ""}},
    ]
