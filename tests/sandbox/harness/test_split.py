"""The split-test parser of the sandbox harness (src/sandbox/harness/split.py), table-driven: each
supported assertion shape splits into the calls the child evaluates and the expected side the
judge keeps, and is decided on values alone; every other shape stays whole in the child. The
end-to-end checks (attacks, honest programs, HumanEval and MBPP parity) are in
tampering_test.cpp and tests/reference/test_evaluation.py."""
import math

import pytest

import harness_module

harness = harness_module.load()


def humaneval(*asserts, imports="import math\n"):
    body = "".join("    %s\n" % a for a in asserts)
    return "%s\nMETADATA = {'author': 'jt'}\n\n\ndef check(candidate):\n%s\ncheck(solve)\n" % (imports, body)


# (test source, the calls the child gets per assertion)
SPLIT = [
    ("assert f(1) == 2", [["f(1)"]]),
    ("assert f(1)", [["f(1)"]]),
    ("assert not f(1)", [["f(1)"]]),
    ("assert abs(f(1.5) - 2.25) < 1e-06", [["f(1.5)"]]),
    ("assert math.isclose(f(2), 4, rel_tol=0.001)", [["f(2)"]]),
    ("import math\nassert math.isclose(f(2), 4)", [["f(2)"]]),
    ("from math import isclose as close\nassert close(f(2), 4)", [["f(2)"]]),
    ("assert f(3) in (9, 10)", [["f(3)"]]),
    ("assert f(3) is None", [["f(3)"]]),
    ("assert sorted(f([3, 1])) == [1, 3]", [["f([3, 1])"]]),
    ("assert set(f('ab')) == set('ba')", [["f('ab')"]]),
    ("assert f('x')[0] == 'x'", [["f('x')"]]),
    ("assert f(1) == f(2)", [["f(1)", "f(2)"]]),  # in Python's order of evaluation
    ("assert {f(1): f(2), f(3): 4} == {}", [["f(1)", "f(2)", "f(3)"]]),
    ("assert next(f(3)) == 0", [["next(f(3))"]]),  # another built-in that calls the program: the child's
    ("assert f(2).count(1) == 0", [["f(2).count(1)"]]),
    ("assert f(g(1)) == 2", [["f(g(1))"]]),
    ("assert 0 < f(1) < 10", [["f(1)"]]),
    ("assert (lambda: f(1))() == 1", [["(lambda: f(1))()"]]),  # only calls the program: the child's
    ("assert f(1) == 1 or True", [["f(1)"]]),  # the first operand always runs
    ("assert f(1) == 2 ** 10", [["f(1)"]]),
    ("assert f(1) == 2, 'message'", [["f(1)"]]),
    ("assert f(1) == 2, 'got ' + str(f(1))", [["f(1)"]]),  # a message that calls the program is left out
    (humaneval("assert candidate(1) == 2", "assert True, 'text'", "assert candidate(2) == 3"),
     [["solve(1)"], [], ["solve(2)"]]),
    (humaneval("import math", "assert math.fabs(candidate(1) - 2) < 1e-6"), [["solve(1)"]]),
    # check(max): the entry point is the program's even when it bears a built-in's name
    (humaneval("assert candidate([1, 2]) == 2").replace("check(solve)", "check(max)"), [["max([1, 2])"]]),
]

# (test source, why it stays whole in the child)
WHOLE = [
    ("for x in range(3):\n    assert f(x) == x", "For"),
    ("x = f(1)\nassert x == 2", "Assign"),  # not a literal: runs
    ("assert f(1) == 2 and f(2) == 3", "conditionally"),
    ("assert f(1) if True else f(2)", "conditionally"),
    ("assert 0 < f(1) < f(2)", "conditionally"),
    ("assert all(f(x) for x in range(3))", "GeneratorExp"),
    ("assert f(1) == hex(255)", "call of hex"),  # would show the child the expected side
    ("assert f(1) == ''.join(['a'])", "call of ''.join"),
    ("import numpy as np\nassert np.allclose(f(1), [1.0])", "call of np.allclose"),
    ("assert f(1) == x", "name 'x'"),
    ("assert f", "name 'f'"),
    ("assert f(1) == 2 ** (10 ** 10)", "exponent"),
    ("assert f(1) == [0] * 10000000000", "repetition"),
    ("assert f(1) == type('X', (), {})", "call of type"),
    ("assert f(1) == math.__dict__", "attribute '__dict__'"),
    ("assert len(*f(1)) == 2", "call of len"),
    ("assert (lambda: 1) == f(1)", "Lambda"),
    (humaneval("assert candidate(METADATA) == 1"), "names the test defines"),
    (humaneval("x = 1", "assert candidate(x) == 1"), "Assign"),
    ("def check(candidate):\n    assert candidate(1) == 2\n", "no assertion"),  # never called: runs nothing
    ("check(f)\nassert f(1) == 2\n\ndef check(c):\n    pass", "Expr"),
]


def split_or_why(source):
    import ast
    try:
        return harness.split_module(ast.parse(source)), None
    except harness.Unsplittable as error:
        return None, str(error)


@pytest.mark.parametrize("source,calls", SPLIT)
def test_supported_shapes_split_into_calls_and_an_expected_side(source, calls):
    split, why = split_or_why(source)
    assert split is not None, why
    assert split.child_part()["asserts"] == calls


@pytest.mark.parametrize("source,why", WHOLE)
def test_other_shapes_stay_whole_in_the_child(source, why):
    split, reason = split_or_why(source)
    assert split is None and why in reason, reason
    assert harness.split_test(source) is None


def decide(source, *values):
    """The judge's decision on the first assertion given the child's raw reported values."""
    split = harness.split_test(source)
    return split.asserts[0].failure(split.namespace, [harness.encode(v) for v in values])


def test_the_judge_decides_on_values_with_its_own_builtins():
    assert decide("assert f(1) == 2", 2) is None
    assert decide("assert f(1) == 2", 3) == {"type": "AssertionError", "message": ""}
    assert decide("assert f(1) == 2, 'one ' + 'two'", 3)["message"] == "one two"
    assert decide("assert abs(f(1) - 0.1) < 1e-9", 0.1 + 1e-12) is None
    assert decide("assert math.isclose(f(1), 1.0)", 1.0 + 1e-12) is None
    assert decide("assert f(1) in (1, 2)", 2) is None and decide("assert f(1) in (1, 2)", 3) is not None
    assert decide("assert f(1) == (1, 2)", [1, 2])["type"] == "AssertionError"  # a list is not a tuple
    assert decide("assert f(1) == 1", True) is None  # as Python: True == 1
    assert decide("assert sorted(f(1)) == [1, 2]", {2, 1}) is None
    assert decide("assert abs(f(1) - 1) < 1e-9", None)["type"] == "TypeError"  # as the assertion would raise
    assert decide("assert f(1) == math.inf", math.inf) is None


def test_values_that_are_not_plain_fail_as_untrusted():
    split = harness.split_test("assert f(1)")
    for raw in ({"?": "Anything"}, {"h": "00"}, {"d": 1}, {"nd": ["|O", [1]]}, {"D": ["Counter", 1]}):
        failure = split.asserts[0].failure(split.namespace, [raw])
        assert failure["type"] == "UntrustedValue", raw
    assert split.asserts[0].failure(split.namespace, [1, 2])["type"] == "UntrustedValue"  # too many values


def test_a_lazy_iterator_is_consumed_by_the_child_and_compared_as_python_would():
    carried = harness.carried(x * x for x in range(3))
    assert carried == {"i": [0, 1, 4]}
    split = harness.split_test("assert list(f(3)) == [0, 1, 4]")
    assert split.asserts[0].failure(split.namespace, [carried]) is None


def test_plain_values_round_trip_exactly():
    import collections
    import datetime
    import decimal
    import fractions
    values = [1, -2 ** 70, 0.1, float("inf"), "\udcff", b"\x00", (1, [2, {3}]), frozenset({1}), {1: (2,)},
              collections.Counter("aab"), collections.OrderedDict(a=1), collections.deque([1]), 1 + 2j,
              fractions.Fraction(1, 3), decimal.Decimal("1.10"), datetime.date(2024, 2, 29),
              datetime.datetime(2024, 1, 1, 12, 30), datetime.timedelta(days=1, seconds=2), range(1, 10, 2), None]
    for value in values:
        back = harness.decode(harness.encode(value), strict=True)
        assert back == value and type(back) is type(value), value


def test_the_judges_reports_are_read_defensively():
    reports = harness.parse_reports(b'{"test": 0, "ok": false, "type": 7, "message": ["x"]}\n'
                                    b'{"load_error": "nonsense"}\n[1]\nnot json\n{"test": 1, "time": "slow"}\n')
    assert reports == [{"test": 0, "ok": False, "type": "", "message": ""},
                       {"load_error": {"type": "", "message": ""}}, {"test": 1, "time": 0.0}]


def test_a_name_the_program_redefines_is_its_own_only_when_it_is_under_test():
    """MBPP/126 defines and tests its own `sum`: `sum(10, 15)` is then a call into the program.
    A redefined built-in that only helps the comparison stays the judge's own."""
    program = "def sum(a, b):\n    return 6\n"
    assert harness.program_bindings(program, {"sum", "abs"}) == {"sum"}
    assert harness.program_bindings("def f():\n    sum = 0\n    return sum\n", {"sum"}) == set()  # local
    assert harness.program_bindings("def f():\n    global abs\n    abs = 1\n", {"abs"}) == {"abs"}
    assert harness.program_bindings("from os import *\n", {"abs"}) == {"abs"}
    assert harness.program_bindings("import math\nfrom math import isclose\n", {"math", "isclose"}) == set()
    assert harness.program_bindings("import numpy as math\nfrom math import sqrt as isclose\n",
                                    {"math", "isclose"}) == {"math", "isclose"}
    plan = harness.split_plan({"hardened": True, "program": program, "tests": ["assert sum(10, 15) == 6"]})
    assert plan[0].child_part()["asserts"] == [["sum(10, 15)"]]
    cheat = "def abs(x):\n    return 0\ndef f(x):\n    return -1\n"
    plan = harness.split_plan({"hardened": True, "program": cheat, "tests": ["assert abs(f(1) - 2) < 1e-9"]})
    assert plan[0].child_part()["asserts"] == [["f(1)"]]
    assert plan[0].asserts[0].failure(plan[0].namespace, [-1])["type"] == "AssertionError"
