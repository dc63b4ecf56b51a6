"""The comparison of recorded outputs (src/sandbox/harness/oracles.py): evalplus's rule per task
(exact equality, its special oracles, then closeness under atol, with atol promoted to 1e-6 once
a float is expected) and the reshaping of inputs JSON cannot carry."""
import json

import pytest

import harness_module

h = harness_module.load()


@pytest.mark.parametrize("out, exp, atol, same", [
    (3, 3, 0, True),
    (3, 4, 0, False),
    ([1, 2], [1, 2], 0, True),
    ((1, 2), [1, 2], 0, False),  # a tuple is not a list
    (0.1 + 0.2, 0.3, 0, True),  # atol becomes 1e-6 for float outputs
    (0.3001, 0.3, 0, False),
    (0.3001, 0.3, 1e-3, True),
    ([1.0, 2.0000001], [1.0, 2.0], 0, True),
    ([1.0, 2.0], [1.0, 2.0, 3.0], 1e-3, False),  # lengths differ
    (1, 1.0000001, 1e-3, False),  # types differ: no closeness between int and float
    (float("nan"), float("nan"), 0, False),
    ("a", 1, 0, False),
])
def test_exact_then_close(out, exp, atol, same):
    assert h.Comparison("", atol).matches(out, exp, []) is same


def test_atol_promotion_lasts_for_later_inputs_of_the_task():
    comparison = h.Comparison("", 0)
    assert comparison.matches(1.0, 1.0, [])
    assert comparison.atol == 1e-6
    assert comparison.matches([2.0000001], [2.0], [])


@pytest.mark.parametrize("oracle, out, exp, args, same", [
    ("always", 1, 2, [], True),
    ("zero_or_equal", 0, 5, [], True),
    ("zero_or_equal", 1, 5, [], False),
    ("set_equal", [3, 1, 2], [1, 2, 3], [], True),
    ("set_equal", [1, 2], [1, 2, 3], [], False),
    ("not_none", "x", True, [], True),
    ("not_none", None, True, [], False),
    ("digit_distance", 7, 0, [123, 256], True),  # |1-2| + |2-5| + |3-6|
    ("find_zero", 2.0, 0, [[-4, 0, 1]], True),  # x^2 - 4 at 2
    ("find_zero", 1.0, 0, [[-4, 0, 1]], False),
    ("surface_area", 35, 0, [3, 4], True),  # 9 + 2 * 3 * sqrt(1.5 ** 2 + 16), rounded
    ("surface_area", 34, 0, [3, 4], False),
])
def test_evalplus_special_oracles(oracle, out, exp, args, same):
    atol = 1e-6 if oracle == "find_zero" else 0
    assert h.Comparison(oracle, atol).matches(out, exp, args) is same


def test_a_comparison_that_raises_is_a_mismatch_not_a_harness_fault():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("no")
    assert h.Comparison("", 0).matches(Hostile(), 1, []) is False


@pytest.mark.parametrize("adapter, given, rebuilt", [
    ("tuple_args", [[[1, 2], [3, 4]]], [[(1, 2), (3, 4)]]),
    ("second_arg_tuple", [[1, [2, 3]]], [[1, (2, 3)]]),
    ("complex_arg", [["1+2j"]], [[complex(1, 2)]]),
    ("all_tuples", [[[1, [2]], 3]], [((1, (2,)), 3)]),
    ("", [[1, [2]]], [[1, [2]]]),
])
def test_inputs_are_reshaped_by_their_adapter(adapter, given, rebuilt):
    assert h.load_inputs({"inputs": json.dumps(given), "adapter": adapter}) == rebuilt
