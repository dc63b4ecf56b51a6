# ---- the child: runs the untrusted program and reports on CHANNEL ----

class InputTimeout(BaseException):
    pass


def report(obj):
    data = (json.dumps(obj) + "\n").encode()  # hex-encoded big ints keep the digit limit out of the way
    view = memoryview(data)
    while view:
        view = view[os.write(CHANNEL, view):]


def describe(error):
    try:
        text = str(error)
    except BaseException:  # an exception of the program's whose __str__ raises
        text = "(unprintable %s)" % type(error).__name__
    return {"type": type(error).__name__, "message": text[:500]}


def compile_program(job):
    """The program's code object, or None after reporting the syntax error."""
    try:
        return compile(job["program"], "<solution>", "exec")
    except (SyntaxError, ValueError) as error:
        report({"syntax_error": describe(error)})
        return None


def load_program(job):
    """Compiles and runs the program; returns its globals or None after reporting why not."""
    code = compile_program(job)
    if code is None:
        return None
    namespace = {}
    try:
        exec(code, namespace)
    except BaseException as error:
        report({"load_error": describe(error)})
        return None
    return namespace


# ---- hardened assertions that run in the child (tests that could not be split) ----
# Such an assertion runs inside the untrusted process, so a result object whose __eq__ always
# says True passes `assert f(x) == y`. Hardened mode rewrites every call in these tests so that
# what a function of the program returns to a test must be a plain value (exact built-in types,
# checked recursively) before the test may compare it; anything else fails the test as
# UntrustedValue. It stops value-level tricks (always-equal objects, overriding subclasses of
# int or str); code that deliberately tampers with the harness in its own process is beyond
# its reach, which is why these tests are counted as unprotected.

class UntrustedValue(BaseException):  # BaseException: the program's `except Exception` cannot swallow it
    pass


PLAIN_SCALARS = {bool, int, float, complex, str, bytes, type(None), type(Ellipsis)}
PLAIN_CONTAINERS = {list, tuple, set, frozenset, dict, collections.Counter, collections.OrderedDict,
                    collections.defaultdict, collections.deque}
PLAIN_SCALARS |= {fractions.Fraction, decimal.Decimal, datetime.date, datetime.datetime, datetime.time,
                  datetime.timedelta, range}
if numpy is not None:
    PLAIN_SCALARS |= {numpy.bool_, numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8, numpy.uint16,
                      numpy.uint32, numpy.uint64, numpy.float16, numpy.float32, numpy.float64, numpy.complex128}
# Lazy built-in iterators pass unchecked: checking them would consume them.
LAZY_ITERATORS = {type(iter([])), type(iter(())), type(iter("")), type(iter(range(1))), type(map(int, [])),
                  type(filter(None, [])), type(zip()), type(enumerate([])), type(reversed([])),
                  type((lambda: (yield))())}
PLAIN_CHECK_LIMIT = 1 << 20  # elements; beyond this a value is taken as it is


def untrusted_part(value):
    """The type name of the first part of `value` that is not a plain value, or None."""
    pending, seen = [value], 0
    while pending and seen < PLAIN_CHECK_LIMIT:
        item = pending.pop()
        seen += 1
        kind = type(item)
        if kind in PLAIN_SCALARS or kind in LAZY_ITERATORS:
            continue
        if numpy is not None and kind is numpy.ndarray and item.dtype != object:
            continue
        if kind not in PLAIN_CONTAINERS:
            return kind.__qualname__
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        else:
            pending.extend(item)
    return None


def checked_call(function, *args, **kwargs):
    result = function(*args, **kwargs)
    code = getattr(function, "__code__", None)
    if code is not None and code.co_filename == "<solution>":
        bad = untrusted_part(result)
        if bad is not None:
            name = getattr(function, "__name__", "?")
            raise UntrustedValue("%s() returned a value of type '%s', not a plain value" % (name, bad))
    return result


class CallChecker(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        return ast.copy_location(ast.Call(func=ast.Name("__codealign_checked_call__", ast.Load()),
                                          args=[node.func, *node.args], keywords=node.keywords), node)


def compile_test(test, index, hardened):
    name = "<test %d>" % index
    if not hardened:
        return compile(test, name, "exec")
    tree = ast.fix_missing_locations(CallChecker().visit(ast.parse(test, name)))
    return compile(tree, name, "exec")


def run_assertions(job, namespace):
    hardened = job.get("hardened", False)
    for index, test in enumerate(job["tests"]):
        if "asserts" in test:
            run_split_test(index, test, namespace, streamed=index == len(job["tests"]) - 1)
            continue
        try:
            namespace["__codealign_checked_call__"] = checked_call  # again each test: the program may rebind it
            exec(compile_test(test["source"], index, hardened), namespace)
        except BaseException as error:
            report({"test": index, "ok": False, **describe(error)})
        else:
            report({"test": index, "ok": True})


def carried(value):
    """A split assertion's value as the judge gets it; a lazy iterator is consumed here, as the
    assertion would consume it (list(f(x)))."""
    try:
        if type(value) in LAZY_ITERATORS:
            return {"i": encode(list(value))}
        return encode(value)
    except RecursionError:
        return {"?": "deeply nested"}


def run_split_test(index, test, namespace, streamed):
    """A split test: the test's imports, then the calls of each assertion in order, their values
    reported to the judge, who answers "+" to go on or "-" to stop, as a failed assert would.
    The job's last test is streamed: the child goes on without waiting and stops at the first
    "-" it finds. Nothing runs after that test that a call past a failed assertion could
    affect, and the judge decides as the values come (a wait per assertion cost about a tenth
    of the mixed HumanEval set's time)."""
    try:
        for source in test["imports"]:
            exec(compile(source, "<test %d>" % index, "exec"), namespace)
        if streamed:
            os.set_blocking(ANSWERS, False)
        for number, calls in enumerate(test["asserts"]):
            values = [carried(eval(compile(call, "<test %d>" % index, "eval"), namespace)) for call in calls]
            report({"assert": [index, number], "values": values})
            if (stopped_by_judge() if streamed else os.read(ANSWERS, 1) != b"+"):
                return
    except BaseException as error:
        report({"test": index, "ok": False, **describe(error)})


def stopped_by_judge():
    try:
        return os.read(ANSWERS, 1) == b"-"
    except BlockingIOError:
        return False


def run_inputs(job, namespace):
    function = namespace.get(job["entry_point"])
    if not callable(function):
        report({"load_error": {"type": "NameError", "message": "entry point '%s' is not defined" % job["entry_point"]}})
        return
    inputs = load_inputs(job)
    limits = job["time_limits"]
    record_not_none = job["record"] and job.get("oracle") == "not_none"

    def on_alarm(signum, frame):
        raise InputTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    for index, args in enumerate(inputs):
        try:
            signal.setitimer(signal.ITIMER_REAL, limits[index] if index < len(limits) else 0)
            start = time.perf_counter()
            out = function(*args)
            elapsed = time.perf_counter() - start
            signal.setitimer(signal.ITIMER_REAL, 0)
        except InputTimeout:
            report({"test": index, "ok": False, "timeout": True})
            return
        except BaseException as error:
            signal.setitimer(signal.ITIMER_REAL, 0)
            report({"test": index, "ok": False, **describe(error)})
            continue
        if record_not_none:
            out = out is not None
        try:
            value = wire_value(out)
        except RecursionError:
            value = {"?": "deeply nested"}
        report({"test": index, "value": value, "time": elapsed})


