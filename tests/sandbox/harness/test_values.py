"""The harness's value encoding (src/sandbox/harness/values.py): what a program's outputs become
on their way out of the sandbox. Every type keeps its identity (tuple vs list, int vs float, set
vs frozenset, Counter vs dict); what cannot be rebuilt is equal to nothing; strict decoding (the
values of split assertions, from an untrusted child) refuses all but plain values."""
import collections
import datetime
import decimal
import fractions
import math

import numpy
import pytest

import harness_module

h = harness_module.load()

ROUND_TRIPS = [
    None, True, 0, -7, 2 ** 200, -(2 ** 70), 1.5, float("inf"), "text", "",
    [1, [2, (3, 4)]], (1,), (), {1, 2}, frozenset({"a"}), {(1, 2): [3], "k": {4: 5.0}},
    collections.Counter("abca"), collections.OrderedDict([("b", 1), ("a", 2)]), collections.deque([1, 2]),
    b"\x00\xff", complex(1, -2), fractions.Fraction(3, 7), decimal.Decimal("1.10"),
    datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.time(7, 8),
    datetime.timedelta(days=1, seconds=2, microseconds=3), range(1, 10, 3),
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=lambda v: type(v).__name__ + ":" + repr(v)[:20])
def test_values_round_trip_with_their_types(value):
    back = h.decode(h.encode(value))
    assert back == value and type(back) is type(value)
    assert h.decode(h.encode(value), strict=True) == value


def test_types_that_compare_equal_stay_apart():
    assert h.decode(h.encode(1)) is not True and type(h.decode(h.encode(1.0))) is float
    assert type(h.decode(h.encode((1, 2)))) is tuple and type(h.decode(h.encode([1, 2]))) is list
    assert type(h.decode(h.encode({1}))) is set and type(h.decode(h.encode(frozenset({1})))) is frozenset


def test_a_defaultdict_comes_back_as_a_dict_that_compares_equal():
    value = collections.defaultdict(list, {"a": [1]})
    back = h.decode(h.encode(value))
    assert type(back) is dict and back == value


def test_nan_survives_and_numpy_keeps_its_dtype():
    assert math.isnan(h.decode(h.encode(float("nan"))))
    array = numpy.array([[1, 2], [3, 4]], dtype=numpy.int32)
    back = h.decode(h.encode(array))
    assert back.dtype == numpy.int32 and (back == array).all()
    scalar = h.decode(h.encode(numpy.float32(0.5)))
    assert type(scalar) is numpy.float32 and scalar == 0.5


def test_what_cannot_be_carried_is_equal_to_nothing():
    class Custom:
        pass
    encoded = h.encode(Custom())
    assert encoded == {"?": "Custom"}
    opaque = h.decode(encoded)
    assert opaque != opaque and opaque != Custom()
    assert h.decode({"t": "not a list", "extra": 1}) != ()  # malformed: Opaque, not an exception


def test_strict_decoding_refuses_all_but_plain_values():
    with pytest.raises(h.NotPlain, match="Custom"):
        h.decode({"?": "Custom"}, strict=True)
    with pytest.raises(h.NotPlain, match="malformed"):
        h.decode({"t": 5}, strict=True)
    with pytest.raises(h.NotPlain):
        h.decode({"h": "00" * 32}, strict=True)  # a digest is never a plain value
    with pytest.raises(h.NotPlain):
        h.decode({"nd": ["|O", [1]]}, strict=True)  # numpy arrays of objects are not plain


def test_large_values_travel_as_digests_equal_only_to_the_same_digest():
    big = [bytes(1 << 20)] * 20  # its pickle (no memo) is larger than LARGE_VALUE
    wire = h.wire_value(big)
    assert set(wire) == {"h"}
    assert h.decode(wire) == h.decode(h.wire_value([bytes(1 << 20) for _ in range(20)]))
    assert h.decode(wire) != h.decode(h.wire_value([bytes(1 << 20)] * 19 + [b"\x01" * (1 << 20)]))
    assert h.wire_value([1, (2,)]) == h.encode([1, (2,)])  # small values are encoded as they are
