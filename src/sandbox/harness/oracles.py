# ---- evalplus input reshaping (types JSON cannot carry) and comparison rules ----

def _tuples(items):
    return [tuple(item) for item in items]


def _all_tuples(value):
    return tuple(_all_tuples(item) for item in value) if isinstance(value, list) else value


INPUT_ADAPTERS = {
    "tuple_args": lambda inp: _tuples(inp),
    "nested_tuple_args": lambda inp: [_tuples(arg) for arg in inp],
    "first_arg_tuple_list": lambda inp: [_tuples(inp[0])] + [inp[1]],
    "second_arg_tuple": lambda inp: [inp[0]] + [tuple(inp[1])],
    "sets_of_lists": lambda inp: [[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]],
    "float_complex": lambda inp: (float(inp[0]), complex(inp[1])),
    "first_arg_tuple": lambda inp: [tuple(inp[0])] + [inp[1]],
    "nested_then_tuple": lambda inp: _tuples([_tuples(arg) for arg in inp]),
    "tuple_items_then_tuple": lambda inp: _tuples([[tuple(item) if isinstance(item, list) else item for item in inp[0]]]),
    "first_arg_tuple_3": lambda inp: [tuple(inp[0])] + [inp[1], inp[2]],
    "dict_values_tuple": lambda inp: [{k: tuple(v) for k, v in inp[0].items()}] + inp[1:],
    "complex_arg": lambda inp: [complex(inp[0])],
    "all_tuples": _all_tuples,
}


def load_inputs(job):
    inputs = json.loads(job["inputs"])
    adapter = INPUT_ADAPTERS.get(job.get("adapter") or "")
    return [adapter(inp) for inp in inputs] if adapter else inputs


def poly(coefficients, x):
    return sum(c * math.pow(x, i) for i, c in enumerate(coefficients))


def surface_area(base_edge, height):
    slant = math.sqrt((base_edge / 2) ** 2 + height ** 2)
    return round(base_edge ** 2 + 4 * (base_edge * slant) / 2)


def digit_distance(a, b):
    left, right = str(a), str(b)
    width = max(len(left), len(right))
    return sum(abs(int(x) - int(y)) for x, y in zip(left.zfill(width), right.zfill(width)))


def is_floats(value):
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, float) for item in value)
    if numpy is not None and isinstance(value, numpy.ndarray):
        return value.dtype in (numpy.float64, numpy.float32)
    return False


def allclose(out, exp, atol):
    if numpy is not None:
        return bool(numpy.allclose(out, exp, rtol=1e-07, atol=atol))
    flat_out = list(out) if isinstance(out, (list, tuple)) else [out]
    flat_exp = list(exp) if isinstance(exp, (list, tuple)) else [exp]
    return len(flat_out) == len(flat_exp) and all(
        abs(o - e) <= atol + 1e-07 * abs(e) for o, e in zip(flat_out, flat_exp))


class Comparison:
    """evalplus's rule for one task: exact equality, special oracles, then atol closeness.
    Like evalplus, once a float output is seen with atol 0, atol becomes 1e-6 for later inputs."""

    def __init__(self, oracle, atol):
        self.oracle, self.atol = oracle, atol

    def matches(self, out, exp, args):
        try:
            exact = out == exp
            oracle = self.oracle
            if oracle == "always":
                exact = True
            elif oracle == "zero_or_equal":
                exact = exact or out == 0
            elif oracle == "surface_area":
                exact = exact or abs(out - surface_area(*args)) <= self.atol
            elif oracle == "digit_distance":
                exact = exact or out == digit_distance(*args)
            elif oracle == "set_equal":
                exact = set(out) == set(exp)
            elif oracle == "not_none":
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
            elif oracle == "find_zero":
                return abs(poly(*args, out)) <= self.atol
            if self.atol == 0 and is_floats(exp):
                self.atol = 1e-6
            if not exact and self.atol != 0:
                if type(out) != type(exp):
                    return False
                if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                    return False
                return allclose(out, exp, self.atol)
            return bool(exact)
        except Exception:
            return False


