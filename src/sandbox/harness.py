# codealign sandbox harness: the judge and the clean fork server inside each worker's sandbox.
#
# Protocol on fds 3 (in) and 4 (out); a message is an 8-byte little-endian length and bytes:
#   -> {"ready": true, ...}        <- "<uid> <gid>" the jobs switch to (-1: stay)
#   <- job (JSON, see executor.cpp) <- expected outputs (JSON text, empty unless comparing values or stdout)
#   -> result (JSON)
# Three kinds of process, by trust:
# - the judge (this process, pid 1 of the worker's namespaces): trusted. It reads each job and
#   its expected outputs, hands the child only what the child needs, decides the verdict from
#   the child's reports (a JSON object per line on a private pipe, the child's fd 3), its exit
#   status and the clock, and answers. It never forks after start-up, so the data of every job
#   it has held stays out of every job's memory.
# - the zygote: the fork server, forked from the judge before any job existed. It never receives
#   a byte of a job: it forks each child ahead of its job (the child takes the job's descriptors
#   from the judge's socket itself), reaps it and kills what the job left behind. Every child is
#   a copy of this clean process.
# - the child: untrusted. It reads its part of the job from the judge (the program, the inputs,
#   the calls of split assertions; never an expected output), drops to the jobs' uid and runs
#   the program. In hardened mode assertions of the usual shapes are split: the child evaluates
#   the calls into the program and reports their values; the judge evaluates the rest of each
#   assertion (the expected side) on those values and decides, so a forged report can claim
#   values, never a pass (see "split assertions" below).
import ast, base64, builtins, datetime, decimal, fcntl, fractions, functools, hashlib, json, linecache, math, os, pickle, re, resource, select, signal, socket, stat, struct, sys, time, traceback

os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
for _name in ("collections", "itertools", "functools", "heapq", "bisect", "re", "string", "typing",
              "statistics", "random", "copy", "fractions", "decimal", "datetime", "hashlib", "operator",
              "shutil", "numpy"):
    try:
        __import__(_name)
    except ImportError:
        pass
import shutil
try:
    import numpy
except ImportError:
    numpy = None
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(50000)  # as evalplus: some inputs are huge integers

import collections

CONTROL_IN, CONTROL_OUT = 3, 4  # the judge's pipes to and from codealign
CHANNEL, ANSWERS = 3, 4  # the child's: its reports to the judge, the judge's answers to it
MAPPING_TYPES = (collections.Counter, collections.OrderedDict, collections.defaultdict)
MAPPING_TYPES_BY_NAME = {"Counter": collections.Counter, "OrderedDict": collections.OrderedDict, "defaultdict": dict}
CHANNEL_CAP = 256 << 20
LARGE_VALUE = 16 << 20  # outputs whose pickle exceeds this travel as a digest
OOM_TYPES = ("MemoryError",)


def read_exact(fd, size):
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def receive(fd=CONTROL_IN):
    header = read_exact(fd, 8)
    if header is None:
        return None
    (size,) = struct.unpack("<Q", header)
    return read_exact(fd, size) if size else b""


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def framed(payload):
    return struct.pack("<Q", len(payload)) + payload


def send_payload(payload):
    write_all(CONTROL_OUT, framed(payload))


def send(obj):
    send_payload(json.dumps(obj).encode())


# ---- values: a JSON encoding that keeps Python types (tuple vs list, int vs float, sets) ----

DATE_TYPES = {datetime.date: "date", datetime.datetime: "datetime", datetime.time: "time"}
DATE_TYPES_BY_NAME = {name: kind for kind, name in DATE_TYPES.items()}


def encode(value):
    kind = type(value)
    if kind is int and not -(1 << 63) <= value < (1 << 63):
        return {"x": hex(value)}  # linear time, where str() of a huge int is quadratic
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [encode(item) for item in value]
    if kind is tuple:
        return {"t": [encode(item) for item in value]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "f": [encode(item) for item in value]}
    if kind is dict:
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind in MAPPING_TYPES:
        return {"D": [kind.__name__, [[encode(k), encode(v)] for k, v in value.items()]]}
    if kind is collections.deque:
        return {"q": [encode(item) for item in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind is fractions.Fraction:
        return {"fr": [encode(value.numerator), encode(value.denominator)]}
    if kind is decimal.Decimal:
        return {"dc": str(value)}
    if kind in DATE_TYPES:
        return {"dt": [DATE_TYPES[kind], value.isoformat()]}
    if kind is datetime.timedelta:
        return {"td": [value.days, value.seconds, value.microseconds]}
    if kind is range:
        return {"r": [encode(value.start), encode(value.stop), encode(value.step)]}
    if numpy is not None and kind is numpy.ndarray:
        return {"nd": [value.dtype.str, encode(value.tolist())]}
    if numpy is not None and isinstance(value, numpy.generic):
        return {"np": [value.dtype.str, encode(value.item())]}
    return {"?": kind.__name__}


class Opaque:
    """A value that could not be carried out of the sandbox; equal to nothing."""
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__


class Digest:
    """A large output, known by the SHA-256 of its memo-free pickle; equal only to the same digest."""
    def __init__(self, hex_digest):
        self.hex = hex_digest

    def __eq__(self, other):
        return isinstance(other, Digest) and other.hex == self.hex

    __hash__ = object.__hash__


class _TooLarge(Exception):
    pass


class _Sink:
    """File-like target of a pickler: hashes, or counts and stops past a limit."""
    def __init__(self, limit=None):
        self.size, self.limit, self.hash = 0, limit, hashlib.sha256()

    def write(self, data):
        self.size += len(data)
        if self.limit is not None:
            if self.size > self.limit:
                raise _TooLarge()
        else:
            self.hash.update(data)


def _pickle_into(value, sink):
    pickler = pickle.Pickler(sink, protocol=4)
    pickler.fast = True  # no memo: equal values pickle alike whatever objects they share
    pickler.dump(value)


def wire_value(value):
    """The value's encoding, or a digest when it is too large to carry (e.g. Mbpp/255's outputs).
    Digests assume equal values are built alike (same dict order, same numeric types)."""
    try:
        _pickle_into(value, _Sink(LARGE_VALUE))
    except _TooLarge:
        sink = _Sink()
        _pickle_into(value, sink)
        return {"h": sink.hash.hexdigest()}
    except Exception:
        pass  # unpicklable: encode() names its type
    return encode(value)


class NotPlain(Exception):
    """A reported value that is not a plain value (strict decoding); the argument names its type."""


PLAIN_DTYPE_KINDS = "biufcUS"  # numpy arrays a split assertion may compare: numbers and text


def decode(value, strict=False):
    """The value that encode() encoded. Not strict: what cannot be rebuilt is an Opaque (equal to
    nothing) or a Digest. Strict (a split assertion's values, from an untrusted child): anything
    but a plain value raises NotPlain, and so does a malformed encoding."""
    if isinstance(value, list):
        return [decode(item, strict) for item in value]
    if not isinstance(value, dict):
        return value
    try:
        (tag, body), = value.items()
        return _decode_tagged(tag, body, strict)
    except NotPlain:
        raise
    except Exception:  # a malformed encoding (from the child: anything may arrive)
        if strict:
            raise NotPlain("malformed value")
        return Opaque("malformed value")


def _decode_tagged(tag, body, strict):
    if tag == "x":
        return int(body, 16)
    if tag == "t":
        return tuple(decode(item, strict) for item in body)
    if tag == "s":
        return set(decode(item, strict) for item in body)
    if tag == "f":
        return frozenset(decode(item, strict) for item in body)
    if tag == "d":
        return {decode(k, strict): decode(v, strict) for k, v in body}
    if tag == "D":  # a defaultdict comes back as a plain dict: equality does not see the factory
        return MAPPING_TYPES_BY_NAME[body[0]]({decode(k, strict): decode(v, strict) for k, v in body[1]})
    if tag == "q":
        return collections.deque(decode(item, strict) for item in body)
    if tag == "b":
        return bytes.fromhex(body)
    if tag == "c":
        return complex(body[0], body[1])
    if tag == "fr":
        return fractions.Fraction(decode(body[0], strict), decode(body[1], strict))
    if tag == "dc":
        return decimal.Decimal(body)
    if tag == "dt":
        return DATE_TYPES_BY_NAME[body[0]].fromisoformat(body[1])
    if tag == "td":
        return datetime.timedelta(days=body[0], seconds=body[1], microseconds=body[2])
    if tag == "r":
        return range(decode(body[0], strict), decode(body[1], strict), decode(body[2], strict))
    if tag == "i" and strict:  # a lazy iterator a split assertion's call returned, consumed by the child
        return iter(decode(body, strict))
    if tag == "nd" and numpy is not None and (not strict or numpy.dtype(body[0]).kind in PLAIN_DTYPE_KINDS):
        return numpy.array(decode(body[1], strict), dtype=numpy.dtype(body[0]))
    if tag == "np" and numpy is not None and (not strict or numpy.dtype(body[0]).kind in PLAIN_DTYPE_KINDS):
        return numpy.dtype(body[0]).type(decode(body[1], strict))
    if strict:
        raise NotPlain(str(body) if tag == "?" else "encoding '%s'" % tag)
    if tag == "h":
        return Digest(body)
    return Opaque(str(body))


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


# ---- stdin/stdout tests (APPS, CodeContests, TACO): the program as a script, once per test ----
# Each test runs in a fresh fork of the child, so that no state carries over from one test to the
# next, with the test's input on fd 0 and a pipe on fd 1: input(), sys.stdin, open(0) and
# os.write(1, ...) all behave as under a judge. The child reports each test's captured stdout;
# the judge compares it, so the expected outputs never enter the child. Hardened
# mode does not apply: there is no value of the program's to check, only text compared outside.

def exit_outcome(code):
    """The outcome of SystemExit(code): exit() and sys.exit(0) end a script normally."""
    if code is None or code == 0:
        return {"ok": True}
    if isinstance(code, int):
        return {"ok": False, "type": "SystemExit", "message": "exit code %d" % code}
    return {"ok": False, "type": "SystemExit", "message": "exit code 1: %s" % (code,)}  # exit("why")


def join_threads():
    """Waits for the program's non-daemon threads, as the interpreter does at exit (CP programs
    often run main() in a thread with a bigger stack)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()


def flush_outputs():
    """What the interpreter's exit does: flush sys.stdout, whatever the program made it (fast-IO
    templates buffer everything until then), and the original streams."""
    for stream in (sys.stdout, sys.__stdout__, sys.stderr, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass  # e.g. the output went over the cap and its pipe is closed: the test failed already


def script_main(code, stdin_r, stdout_w, outcome_w):
    """In the fork for one test: runs the program as __main__ and reports how it ended on
    `outcome_w`, which takes the place of the report channel (the program never holds that)."""
    os.dup2(stdin_r, 0)
    os.dup2(stdout_w, 1)
    os.dup2(outcome_w, CHANNEL)
    os.closerange(CHANNEL + 1, 1 << 16)
    try:
        exec(code, {"__name__": "__main__"})
        join_threads()
        outcome = {"ok": True}
    except SystemExit as error:
        outcome = exit_outcome(error.code)
    except BaseException as error:
        outcome = {"ok": False, **describe(error)}
    flush_outputs()
    report(outcome)


def drain(fd, output, cap):
    """Appends what `fd` holds now, without waiting; False once past `cap` bytes."""
    os.set_blocking(fd, False)
    while len(output) <= cap:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        output += chunk
    return len(output) <= cap


def exchange(pid, stdin_w, stdout_r, data, cap):
    """Feeds `data` to the run's stdin while reading its stdout (a program may fill its output
    pipe before it reads all its input) until the run ends; a process it started may hold its
    stdout open longer, and is not waited for. Returns (output, overflowed): past `cap` bytes it
    stops and says so."""
    os.set_blocking(stdin_w, False)
    pidfd = os.pidfd_open(pid)
    pending, output = memoryview(data), bytearray()
    writing, reading = [stdin_w], [stdout_r]
    try:
        while True:
            if writing and not pending:
                os.close(stdin_w)  # EOF on the program's stdin
                writing = []
            readable, writable, _ = select.select(reading + [pidfd], writing, [])
            if writable:
                try:
                    pending = pending[os.write(stdin_w, pending[:1 << 16]):]
                except BlockingIOError:
                    pass
                except BrokenPipeError:  # the program stopped reading: the rest of its input is moot
                    pending = pending[:0]
            if stdout_r in readable:
                chunk = os.read(stdout_r, 1 << 16)
                if not chunk:
                    reading = []  # it closed its stdout; it may still be running
                output += chunk
                if len(output) > cap:
                    return bytes(output[:cap]), True
            if pidfd in readable:  # it ended: all it wrote is in the pipe
                fits = drain(stdout_r, output, cap)
                return bytes(output[:cap]), not fits
    finally:
        os.close(pidfd)
        if writing:
            os.close(stdin_w)


def script_outcome(raw_status, outcome_raw):
    """How the test's fork ended: its own report, else its exit status."""
    if os.WIFSIGNALED(raw_status):
        signal_number = os.WTERMSIG(raw_status)
        if signal_number == signal.SIGXCPU:
            return {"ok": False, "timeout": True}
        name = SIGNAL_NAMES.get(signal_number, "signal %d" % signal_number)
        return {"ok": False, "type": name, "message": "killed by %s" % name}
    reports = parse_reports(outcome_raw)
    if reports:
        return reports[-1]
    return exit_outcome(os.WEXITSTATUS(raw_status))  # os._exit(): no report, only a status


def run_script(code, data, cap):
    """Runs the program once on `data` as stdin; the test's report, with its captured stdout."""
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    outcome_r, outcome_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # nothing buffered here may reach the program's stdout
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)  # a group of its own, which ends with the run
            script_main(code, stdin_r, stdout_w, outcome_w)
        finally:
            os._exit(0)
    for fd in (stdin_r, stdout_w, outcome_w):
        os.close(fd)
    output, overflowed = exchange(pid, stdin_w, stdout_r, data, cap)
    # Whatever the run started ends with it, so that the next test runs alone. Not reaped yet,
    # the run keeps its pid, and so its group id, from being reused.
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, raw_status = os.waitpid(pid, 0)
    os.set_blocking(outcome_r, False)
    try:
        outcome_raw = os.read(outcome_r, 1 << 16)
    except BlockingIOError:
        outcome_raw = b""
    for fd in (stdout_r, outcome_r):
        os.close(fd)
    outcome = {"ok": True} if overflowed else script_outcome(raw_status, outcome_raw)
    return {**outcome, "stdout": output.decode(errors="replace"), "overflow": overflowed}


def run_stdin_tests(job):
    code = compile_program(job)
    if code is None:
        return
    report({"loaded": True})
    cap = job["limits"]["test_output"]
    for index, text in enumerate(job["stdin_inputs"]):
        report({"test": index, **run_script(code, text.encode(errors="replace"), cap)})
    report({"done": job["nonce"]})


def run_loaded_program(job):
    """Assertion and value styles: the program runs once, then its tests in its globals."""
    namespace = load_program(job)
    if namespace is not None:
        report({"loaded": True})
        (run_inputs if job["entry_point"] else run_assertions)(job, namespace)
        report({"done": job["nonce"]})


def write_files(files):
    """The job's input files (base64), at paths relative to its working directory that the
    executor checked; directories are made as needed."""
    for path, content in files.items():
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(content, validate=True))


def python_exit_status(code):
    """The status python exits with for SystemExit(code); a message is printed, as python does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run_script_job(job):
    """Script style (SandboxFusion's run_code): the program once as __main__; this process then
    exits as python would (0, the SystemExit code, 1 after a traceback on stderr), so that its
    exit status is the program's."""
    try:
        code = compile(job["program"], "<solution>", "exec")
    except BaseException as error:  # SyntaxError, but also RecursionError or MemoryError from a huge program
        syntax = isinstance(error, (SyntaxError, ValueError))
        report({"syntax_error": describe(error)} if syntax else {"exit": 1, **describe(error)})
        traceback.print_exception(type(error), error, None)
        flush_outputs()
        os._exit(1)
    linecache.cache["<solution>"] = (len(job["program"]), None, job["program"].splitlines(True), "<solution>")
    sys.path.insert(0, os.getcwd())  # modules sent in `files` import, as next to a script
    status = 0
    try:
        exec(code, {"__name__": "__main__"})
        join_threads()
    except SystemExit as error:
        status = python_exit_status(error.code)
    except BaseException as error:
        report({"exit": 1, **describe(error)})
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)  # without this frame
        status = 1
    flush_outputs()
    os._exit(status)


def job_process(sock, ids):
    """A job's child, forked from the zygote ahead of its job: it receives the job's descriptors
    from the judge on the zygote's socket, then its part of the job on the answers pipe; then it
    runs the job. (A judge that ends sends nothing: the child ends.)"""
    script = False
    try:
        message, fds, _, _ = socket.recv_fds(sock, 16, 8)
        sock.close()
        if not message or len(fds) < 4:
            return
        fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds]  # clear of 0-4, which dup2 fills
        job = json.loads(receive(fds[0]))
        script = bool(job.get("script"))
        child_main(job, fds, ids)
    finally:
        os._exit(1 if script else 0)  # a script job ends in run_script_job unless the harness failed


def child_main(job, fds, ids):
    answers, stdout_w, stderr_w, channel_w = fds[:4]
    stdin_fd = fds[4] if len(fds) > 4 else os.open("/dev/null", os.O_RDONLY)
    os.setsid()
    for fd, target in ((stdin_fd, 0), (stdout_w, 1), (stderr_w, 2), (channel_w, CHANNEL), (answers, ANSWERS)):
        os.dup2(fd, target)
    os.closerange(ANSWERS + 1, 1 << 16)
    os.chdir(job["scratch"])
    uid, gid = ids
    if uid >= 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    limits = job["limits"]
    cpu = int(math.ceil(job["timeout"])) + 1
    for resource_id, value in ((resource.RLIMIT_AS, limits["memory"]), (resource.RLIMIT_CPU, cpu),
                               (resource.RLIMIT_FSIZE, limits["file_size"]), (resource.RLIMIT_NOFILE, limits["open_files"]),
                               (resource.RLIMIT_NPROC, limits["processes"]), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(resource_id, (value, value))
    os.environ.clear()
    sys.argv = [""]
    try:
        write_files(job.get("files", {}))
    except Exception as error:
        report({"load_error": {"type": "FileError", "message": "writing the job's files: %s" % describe(error)["message"]}})
        return
    if job.get("script"):
        run_script_job(job)
    elif job["stdin_inputs"]:
        run_stdin_tests(job)
    else:
        run_loaded_program(job)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


# ---- split assertions (the judge's side) ----
# Hardened mode splits an assertion test of the usual shapes (assert CALL == EXPR, assert CALL,
# assert not CALL, abs(CALL - X) < EPS, math.isclose(CALL, X), CALL in (...), ..., bare or in
# HumanEval's check(candidate) body) in two. The child expressions, calls whose function names
# the program, go to the child, which evaluates them and reports their values. The rest of the
# assertion, the expected side, stays here: it is evaluated on the values as decoded (plain
# built-in types only) with the real built-ins and math, whatever the program did to its own.
# Any other shape (loops, helper functions, names the test defines, calls of other modules, a
# call that runs only conditionally) runs whole in the child, as in compat mode, and is
# counted in the result's tests_unprotected.

class Unsplittable(Exception):
    pass


# Functions the expected side may call. Pure and bounded by their arguments' size; `type` only
# with one argument (with three it builds a class).
TRUSTED_FUNCTIONS = ("abs", "all", "any", "bool", "bytes", "chr", "complex", "dict", "divmod", "enumerate",
                     "float", "frozenset", "int", "isinstance", "len", "list", "max", "min", "ord", "range",
                     "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "type", "zip")
TRUSTED_BUILTINS = {name: getattr(builtins, name) for name in TRUSTED_FUNCTIONS}
PLACEHOLDER = "__codealign_value_%d"
BIG_OPERAND = 1 << 20  # a larger constant in `*` or `<<`, or exponent of `**`, could exhaust the judge


def is_literal(node):
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def bound_names(statement):
    """Names an import or assignment of the test binds."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    return {node.id for target in statement.targets for node in ast.walk(target) if isinstance(node, ast.Name)}


def math_aliases(imports, bound):
    """Names the test's imports give to math and its functions, with what they stand for. `math`
    itself is there unless the test binds the name otherwise: tests use the program's import."""
    aliases = {} if "math" in bound else {"math": math}
    for statement in imports:
        for alias in statement.names:
            if isinstance(statement, ast.Import) and alias.name == "math":
                aliases[alias.asname or "math"] = math
            elif isinstance(statement, ast.ImportFrom) and statement.module == "math" and not statement.level \
                    and alias.name != "*" and not alias.name.startswith("_") and hasattr(math, alias.name):
                aliases[alias.asname or alias.name] = getattr(math, alias.name)
    return aliases


class Splitter:
    """Rewrites one assertion: child expressions become placeholders, in evaluation order."""

    def __init__(self, trusted, program, bound):
        self.trusted, self.program = trusted, program  # names of the judge's side; the program's names
        self.bound = bound  # names the test binds
        self.calls = []

    def names_program(self, node):
        return any(isinstance(n, ast.Name) and n.id in self.program for n in ast.walk(node))

    def is_trusted_call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.trusted:
            if self.trusted[func.id] is type:
                return len(node.args) == 1 and not node.keywords
            return callable(self.trusted[func.id])  # math.pi, imported from math, is not
        return self.is_math_attribute(func)

    def is_math_attribute(self, node):
        return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and self.trusted.get(node.value.id) is math and not node.attr.startswith("_"))

    def is_child_expression(self, node):
        if isinstance(node, ast.Call):
            if self.is_trusted_call(node):
                return False
            if self.names_program(node.func):
                return True
            # Another built-in (next(f(x))): the child's when it calls the program; else it may be
            # an expected side that the child must not see. Functions of other modules never are.
            func = node.func
            return (isinstance(func, ast.Name) and hasattr(builtins, func.id) and func.id not in self.bound
                    and any(self.names_program(part) for part in node.args + [k.value for k in node.keywords]))
        return isinstance(node, ast.Attribute) and not self.is_math_attribute(node) and self.names_program(node.value)

    def rewrite(self, node, conditional=False):
        if self.is_child_expression(node):
            if conditional:  # evaluated by the child regardless, it could time out where compat stops first
                raise Unsplittable("a call into the program that runs only conditionally")
            self.calls.append(ast.unparse(node))
            return ast.Name(PLACEHOLDER % (len(self.calls) - 1), ast.Load())
        return self.rewrite_expected(node, conditional)

    def rewrite_expected(self, node, conditional):
        rewrite = self.rewrite
        if isinstance(node, ast.Constant):
            return node
        if isinstance(node, ast.Name):
            if node.id in self.trusted:
                return node
            raise Unsplittable("name '%s'" % node.id)
        if isinstance(node, ast.Attribute):
            if self.is_math_attribute(node):
                return node
            raise Unsplittable("attribute '%s'" % node.attr)
        if isinstance(node, ast.Call):
            if not self.is_trusted_call(node) or any(isinstance(a, ast.Starred) for a in node.args) \
                    or any(k.arg is None for k in node.keywords):
                raise Unsplittable("call of %s" % ast.unparse(node.func))
            return ast.Call(node.func, [rewrite(a, conditional) for a in node.args],
                            [ast.keyword(k.arg, rewrite(k.value, conditional)) for k in node.keywords])
        if isinstance(node, ast.Compare):  # later comparators are evaluated only while the chain holds
            left = rewrite(node.left, conditional)  # each part in Python's order of evaluation
            comparators = [rewrite(c, conditional or i > 0) for i, c in enumerate(node.comparators)]
            return ast.Compare(left, node.ops, comparators)
        if isinstance(node, ast.BoolOp):
            return ast.BoolOp(node.op, [rewrite(v, conditional or i > 0) for i, v in enumerate(node.values)])
        if isinstance(node, ast.IfExp):
            return ast.IfExp(rewrite(node.test, conditional), rewrite(node.body, True), rewrite(node.orelse, True))
        if isinstance(node, ast.UnaryOp):
            return ast.UnaryOp(node.op, rewrite(node.operand, conditional))
        if isinstance(node, ast.BinOp):
            self.check_operands(node)
            return ast.BinOp(rewrite(node.left, conditional), node.op, rewrite(node.right, conditional))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise Unsplittable("starred element")
            elements = [rewrite(e, conditional) for e in node.elts]
            return ast.Set(elements) if isinstance(node, ast.Set) else type(node)(elements, ast.Load())
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise Unsplittable("dict unpacking")
            pairs = [(rewrite(k, conditional), rewrite(v, conditional)) for k, v in zip(node.keys, node.values)]
            return ast.Dict([k for k, _ in pairs], [v for _, v in pairs])
        if isinstance(node, ast.Subscript):
            return ast.Subscript(rewrite(node.value, conditional), rewrite(node.slice, conditional), ast.Load())
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return ast.Slice(*(rewrite(p, conditional) if p is not None else None for p in parts))
        raise Unsplittable(type(node).__name__)

    @staticmethod
    def check_operands(node):
        def big(operand):
            if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub):
                operand = operand.operand
            return not isinstance(operand, ast.Constant) or not isinstance(operand.value, (int, float)) \
                or abs(operand.value) > BIG_OPERAND
        if isinstance(node.op, (ast.Pow, ast.LShift)) and big(node.right):
            raise Unsplittable("exponent or shift that is not a small constant")
        if isinstance(node.op, ast.Mult) and any(isinstance(o, ast.Constant) and isinstance(o.value, int)
                                                 and abs(o.value) > BIG_OPERAND for o in (node.left, node.right)):
            raise Unsplittable("large repetition")


class SplitAssert:
    """One assertion: its child expressions (sources, for the child) and its expected side
    (code, for the judge), with the assert's message."""

    def __init__(self, statement, trusted, program, bound):
        splitter = Splitter(trusted, program, bound)
        expected = splitter.rewrite(statement.test)
        self.calls = splitter.calls
        self.expected = compile(ast.fix_missing_locations(ast.Expression(expected)), "<assertion>", "eval")
        self.message = None
        try:  # a message that calls the program again ('got ' + str(f(x))) is left out: it is only text
            if statement.msg is not None:
                message = Splitter(trusted, program, bound).rewrite(statement.msg, conditional=True)
                self.message = compile(ast.fix_missing_locations(ast.Expression(message)), "<assertion>", "eval")
        except Unsplittable:
            pass

    def failure(self, namespace, raw_values):
        """None when the assertion holds on the reported values; else why it fails."""
        if not isinstance(raw_values, list) or len(raw_values) != len(self.calls):
            return {"type": "UntrustedValue", "message": "the values reported do not match the assertion"}
        values = {}
        for number, raw in enumerate(raw_values):
            try:
                values[PLACEHOLDER % number] = decode(raw, strict=True)
            except (NotPlain, RecursionError) as error:
                return {"type": "UntrustedValue",
                        "message": "%s returned a value of type '%s', not a plain value" % (self.calls[number], error)}
        try:
            if eval(self.expected, namespace, values):
                return None
            return {"type": "AssertionError", "message": str(eval(self.message, namespace)) if self.message else ""}
        except Exception as error:
            return describe(error)


class SplitTest:
    """A test split into the child's part (imports, then each assertion's calls) and the judge's."""

    def __init__(self, imports, asserts, trusted, program, bound):
        self.imports = [ast.unparse(statement) for statement in imports]
        self.asserts = [SplitAssert(statement, trusted, program, bound) for statement in asserts]
        self.namespace = {"__builtins__": TRUSTED_BUILTINS, **{name: value for name, value in trusted.items()
                                                               if name not in TRUSTED_BUILTINS}}

    def child_part(self):
        return {"imports": self.imports, "asserts": [statement.calls for statement in self.asserts]}


class CandidateRenamer(ast.NodeTransformer):
    def __init__(self, parameter, argument):
        self.parameter, self.argument = parameter, argument

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(self.argument, node.ctx), node) if node.id == self.parameter else node


def is_check_function(statement):
    args = statement.args
    return (not statement.decorator_list and len(args.args) == 1 and not args.posonlyargs and not args.vararg
            and not args.kwonlyargs and not args.kwarg and not args.defaults)


def is_check_call(statement, checks):
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in checks
            and len(call.args) == 1 and isinstance(call.args[0], ast.Name) and not call.keywords)


def is_inert(statement):
    return isinstance(statement, ast.Pass) or (isinstance(statement, ast.Expr)
                                               and isinstance(statement.value, ast.Constant))


def split_module(tree, shadowed=frozenset()):
    """MBPP's asserts, or HumanEval's imports, constants, def check(candidate) of asserts and
    check(entry_point) at the end. `shadowed`: names of the judge's side that the program
    redefines (MBPP/126 defines and tests `sum`)."""
    imports, asserts, bound, checks, check_call = [], [], set(), {}, None
    for statement in tree.body:
        if check_call is not None:
            raise Unsplittable("a statement after check()")
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(statement)
            bound |= bound_names(statement)
        elif isinstance(statement, ast.Assign) and is_literal(statement.value):
            bound |= bound_names(statement)  # METADATA = {...}: never run, so never usable
        elif isinstance(statement, ast.FunctionDef) and is_check_function(statement):
            checks[statement.name] = statement
            bound.add(statement.name)
        elif is_check_call(statement, checks):
            check_call = statement.value
        elif isinstance(statement, ast.Assert):
            asserts.append(statement)
        elif not is_inert(statement):
            raise Unsplittable(type(statement).__name__)
    program, assigned = set(), set(bound) - {name for statement in imports for name in bound_names(statement)}
    if check_call is not None:
        check = checks[check_call.func.id]
        argument = check_call.args[0].id
        renamer = CandidateRenamer(check.args.args[0].arg, argument)
        for statement in check.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                imports.append(statement)
                bound |= bound_names(statement)
            elif isinstance(statement, ast.Assert):
                asserts.append(renamer.visit(statement))
            elif not is_inert(statement):
                raise Unsplittable(type(statement).__name__)
        program.add(argument)
    if not asserts:
        raise Unsplittable("no assertion")
    used = {node.id for statement in asserts for node in ast.walk(statement) if isinstance(node, ast.Name)}
    if used & assigned:  # constants and functions of the test, which the child does not get
        raise Unsplittable("names the test defines: %s" % ", ".join(sorted(used & assigned)))
    trusted = {**{name: TRUSTED_BUILTINS[name] for name in TRUSTED_FUNCTIONS if name not in bound},
               **math_aliases(imports, bound)}
    # check(max): the entry point is under test, whatever built-in it shares its name with.
    trusted = {name: value for name, value in trusted.items() if name not in program}
    trusted_used = frozenset(used & set(trusted))
    program |= {name for name in used if name not in trusted and name not in bound and not hasattr(builtins, name)}
    if shadowed and not program:
        # The test calls only names the program redefines: they are its functions under test.
        # Anywhere else a redefined built-in is a helper of the comparison (a program that
        # defines abs() to return 0 would pass abs(f(x) - y) < eps), and the judge keeps its own.
        trusted = {name: value for name, value in trusted.items() if name not in shadowed}
        program |= used & shadowed
    split = SplitTest(imports, asserts, trusted, program, bound)
    split.trusted_used = trusted_used
    return split


@functools.lru_cache(maxsize=4096)
def split_test(source, shadowed=frozenset()):
    """The split form of an assertion test, or None when it runs whole in the child. Cached: the
    judge sees the same tests for every sample of a task."""
    try:
        return split_module(ast.parse(source), shadowed)
    except (Unsplittable, SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def program_bindings(source, names):
    """Which of `names` the program binds at module level (def, class, import, assignment,
    `global`), as far as its text tells; all of them when it cannot be read or imports *."""
    if not re.search(r"\b(?:%s)\b|import\s*\*" % "|".join(map(re.escape, names)), source):
        return frozenset()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()  # the child reports the syntax error; nothing runs
    bound = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            bound.update(name for inner in ast.walk(node) if isinstance(inner, ast.Global) for name in inner.names)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                bound.update(names)
            # `import math` and `from math import isclose` bind what the judge's side uses too
            same = {"math"} if isinstance(node, ast.Import) else math_aliases([node], set()).keys()
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                         if (alias.asname or alias.name) not in same or (alias.asname and alias.asname != alias.name))
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            return  # their names are their own
        for child in ast.iter_child_nodes(node):
            visit(child)

    try:
        for statement in tree.body:
            visit(statement)
    except RecursionError:
        return frozenset(names)
    return frozenset(bound & set(names))


def split_plan(job):
    """The job's split tests by index: in hardened mode, those of the usual shapes, each split
    again when the program redefines a name its judge's side would use (split_module)."""
    if not job.get("hardened") or not job["tests"]:
        return {}
    plan = {}
    for index, source in enumerate(job["tests"]):
        split = split_test(source)
        if split is not None and split.trusted_used:
            shadowed = program_bindings(job["program"], split.trusted_used)
            split = split_test(source, shadowed) if shadowed else split
        if split is not None:
            plan[index] = split
    return plan


class SplitJudge:
    """Decides a job's split assertions as their values arrive, in order, and answers the child
    on `answers` ("+" go on, "-" stop; the streamed last test gets only "-"); a report out of
    order or for a decided test is ignored."""

    def __init__(self, plan, answers, tests):
        self.plan, self.answers = plan, answers
        self.streamed = tests - 1 if tests - 1 in plan else None
        self.next = dict.fromkeys(plan, 0)
        self.decided = {}  # test index -> its entry, as the child's "ok" entries would be

    def failed_streamed_test(self):
        """Whether the streamed test failed: after that, only calls past the failed assertion
        ran, which the test as written would not have run."""
        return self.decided.get(self.streamed, {}).get("ok") is False

    def on_report(self, entry):
        where = entry.get("assert")
        if not (isinstance(where, list) and len(where) == 2 and all(type(x) is int for x in where)):
            return
        index, number = where
        split = self.plan.get(index)
        if split is None or index in self.decided or number != self.next[index]:
            return
        failure = split.asserts[number].failure(split.namespace, entry.get("values"))
        if failure is not None:
            self.decided[index] = {"test": index, "ok": False, **failure}
            self.answer(b"-")
            return
        self.next[index] += 1
        if self.next[index] == len(split.asserts):
            self.decided[index] = {"test": index, "ok": True}
        if index != self.streamed:
            self.answer(b"+")

    def answer(self, byte):
        try:
            os.write(self.answers, byte)
        except (BlockingIOError, BrokenPipeError):
            pass  # a child that does not read its answers stalls only itself

    def settle(self, by_test):
        """The split tests' entries in `by_test`: what was decided here; the child's own entry only
        when it reports a failure (an exception in a call) for a test not yet decided."""
        for index in self.plan:
            reported = by_test.pop(index, None)
            if index in self.decided:
                by_test[index] = self.decided[index]
            elif reported is not None and reported.get("ok") is False:
                by_test[index] = reported


# ---- the judge ----

class ChannelLines:
    """Calls `on_report` with each complete report line of the channel that starts with `prefix`,
    as it arrives (split assertions are decided while the child waits)."""

    def __init__(self, prefix, on_report):
        self.prefix, self.on_report, self.done = prefix, on_report, 0

    def feed(self, buffer):
        while True:
            end = buffer.find(b"\n", self.done)
            if end < 0:
                return
            line = bytes(buffer[self.done:end])
            self.done = end + 1
            if line.startswith(self.prefix):
                try:
                    entry = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(entry, dict):
                    self.on_report(entry)


def collect(pidfd, fds, deadline, output_cap, lines=None):
    """Reads the child's stdout, stderr and reports until it exits or the deadline passes;
    `lines` (a ChannelLines, optional) sees the reports as they come."""
    stdout_r, stderr_r, channel_r = fds
    buffers = {stdout_r: bytearray(), stderr_r: bytearray(), channel_r: bytearray()}
    caps = {stdout_r: output_cap, stderr_r: output_cap, channel_r: CHANNEL_CAP}
    dropped = {stdout_r: False, stderr_r: False, channel_r: False}
    open_fds = [stdout_r, stderr_r, channel_r, pidfd]
    exited = timed_out = False
    while len(open_fds) > 1 or not exited:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        # After the child exits, only drain what is already there (a daemon may hold the pipes).
        ready, _, _ = select.select(open_fds, [], [], 0 if exited else remaining)
        if not ready:
            timed_out = not exited
            break
        for fd in ready:
            if fd == pidfd:
                exited = True
                open_fds.remove(pidfd)
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                open_fds.remove(fd)
                continue
            room = caps[fd] - len(buffers[fd])
            if len(data) > room:
                dropped[fd] = True
                data = data[:max(room, 0)]
            buffers[fd] += data
            if fd == channel_r and lines is not None:
                lines.feed(buffers[fd])
    return buffers[stdout_r], buffers[stderr_r], buffers[channel_r], dropped, timed_out


SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}


def normalise_output(text):
    """Judges' rule (APPS, CodeContests): \\r\\n is \\n, and trailing whitespace of each line and
    trailing empty lines do not count."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def output_mismatch(entry, expected, index, cap):
    """Why a stdin/stdout test's captured stdout is not its expected output; None when it is."""
    if entry.get("overflow"):
        return "test %d: output exceeds the cap of %d bytes" % (index, cap)
    got = entry.get("stdout")
    if isinstance(got, str) and index < len(expected) and normalise_output(got) == normalise_output(expected[index]):
        return None
    return "test %d: output differs from the expected" % index


def judge_script(job, reports, status, timed_out):
    """Script style: the exit status decides; the child's reports name the error."""
    first = lambda key: next((entry[key] for entry in reports if key in entry), None)
    setup, syntax = first("load_error"), first("syntax_error")
    uncaught = next((entry for entry in reports if "exit" in entry), None)
    signal_number = -status if status is not None and status < 0 else 0
    if timed_out or signal_number == signal.SIGXCPU:
        kind, info = "timeout", {"type": "Timeout", "message": "time limit of %gs exceeded" % job["timeout"]}
    elif setup:
        kind, info = "runtime_error", setup
    elif syntax:
        kind, info = "syntax_error", syntax
    elif status == 0:
        kind, info = "passed", {}
    elif signal_number:
        name = SIGNAL_NAMES.get(signal_number, "signal %d" % signal_number)
        kind, info = "crashed", {"type": name, "message": "killed by %s" % name}
    elif uncaught:
        kind, info = ("out_of_memory" if uncaught["type"] in OOM_TYPES else "runtime_error"), uncaught
    else:
        kind, info = "runtime_error", {"type": "SystemExit", "message": "exit code %d" % status}
    passed = kind == "passed"
    return {"verdict": kind, "tests_total": 1, "tests_passed": int(passed), "test_passed": [passed],
            "error_type": info.get("type", ""), "message": info.get("message", "")[:500],
            "exit_code": None if kind == "timeout" or setup else status}


def judge(job, reports, status, timed_out, expected_raw, channel_dropped, split=None):
    """The verdict from the child's reports, its exit status and the clock; `split` (a
    SplitJudge) has decided the split assertion tests."""
    if job.get("script"):
        return judge_script(job, reports, status, timed_out)
    in_process = len(job["tests"]) - (len(split.plan) if split else 0)  # tests_unprotected
    result = {"tests_total": len(job["stdin_inputs"] or job["tests"]) if not job["entry_point"] else None,
              "tests_passed": 0, "test_passed": [], "error_type": "", "message": "", "tests_unprotected": in_process}
    verdict = None
    by_test, done, loaded = {}, False, False
    for entry in reports:
        if "syntax_error" in entry:
            verdict = verdict or ("syntax_error", entry["syntax_error"])
        elif "load_error" in entry:
            verdict = verdict or ("load_error", entry["load_error"])
        elif "loaded" in entry:
            loaded = True
        elif "test" in entry and isinstance(entry["test"], int) and entry["test"] not in by_test:
            by_test[entry["test"]] = entry
        elif entry.get("done") == job["nonce"]:
            done = True
    if split:
        split.settle(by_test)
    values = []
    inputs = load_inputs(job) if job["entry_point"] else None
    if inputs is not None:
        result["tests_total"] = len(inputs)
    total = result["tests_total"]
    comparison = Comparison(job.get("oracle") or "", job.get("atol") or 0)
    expected = [decode(v) for v in json.loads(expected_raw)] if expected_raw else []
    first_failure = None
    for index in range(total):
        entry = by_test.get(index)
        if entry is None:
            break
        ok = entry.get("ok", True)
        if ok and job["entry_point"]:
            if job["record"]:
                values.append(entry.get("value"))
            else:
                value = decode(entry.get("value"))
                ok = index < len(expected) and comparison.matches(value, expected[index], inputs[index])
                if not ok and first_failure is None:
                    first_failure = {"type": "WrongAnswer", "message": "input %d: output differs from the expected" % index}
        elif ok and job["stdin_inputs"]:
            mismatch = output_mismatch(entry, expected, index, job["limits"]["test_output"])
            ok = mismatch is None
            if mismatch and first_failure is None:
                first_failure = {"type": "WrongAnswer", "message": mismatch}
                result["failed_test_stdout"] = entry.get("stdout") or ""
        result["test_passed"].append(bool(ok))
        if ok:
            result["tests_passed"] += 1
        elif first_failure is None:
            first_failure = {"type": "Timeout" if entry.get("timeout") else entry.get("type", ""),
                             "message": entry.get("message", "")}
    signal_number = -status if status is not None and status < 0 else 0
    ran_out = timed_out or signal_number == signal.SIGXCPU
    if ran_out and not done and split and split.failed_streamed_test():
        ran_out = False  # stuck in a call past the failed assertion: the test stops at the failure
    if ran_out or (first_failure and first_failure["type"] == "Timeout"):
        kind, info = "timeout", {"type": "Timeout", "message": "time limit of %gs exceeded" % job["timeout"]}
    elif verdict and verdict[0] == "syntax_error":
        kind, info = "syntax_error", verdict[1]
    elif verdict:
        kind, info = ("out_of_memory" if verdict[1]["type"] in OOM_TYPES else "runtime_error"), verdict[1]
    elif first_failure:
        kind = ("failed" if first_failure["type"] in ("AssertionError", "WrongAnswer", "UntrustedValue") else
                "out_of_memory" if first_failure["type"] in OOM_TYPES else "runtime_error")
        info = first_failure
    elif channel_dropped:
        kind, info = "runtime_error", {"type": "OutputTooLarge", "message": "reports exceeded %d bytes" % CHANNEL_CAP}
    elif done and result["tests_passed"] == total and not signal_number:
        # A forked child can finish the program and report "done" after its parent, the
        # job, was killed (kill(-1) from the child): the job itself must not die by a signal.
        kind, info = "passed", {"type": "", "message": ""}
    elif signal_number:
        name = SIGNAL_NAMES.get(signal_number, "signal %d" % signal_number)
        kind, info = "crashed", {"type": name, "message": "killed by %s" % name}
    else:
        kind, info = "runtime_error", {"type": "EarlyExit", "message": "exited with status %s %s" % (
            status, "before its tests finished" if loaded else "while the program was loading")}
    result["verdict"] = kind
    result["error_type"], result["message"] = info.get("type", ""), info.get("message", "")[:500]
    if job["record"]:
        result["outputs"] = json.dumps(values)
        result["times"] = [by_test[i].get("time", 0.0) for i in range(len(values))]
    return result


def error_info(entry):
    """The type and message of a reported error, as strings whatever the child sent."""
    if not isinstance(entry, dict):
        entry = {}
    kind, message = entry.get("type", ""), entry.get("message", "")
    return {"type": kind if isinstance(kind, str) else "", "message": message if isinstance(message, str) else ""}


def parse_reports(raw):
    """The child's report lines as dicts, with the fields the judge reads of the types it expects
    (a program can write anything on its channel)."""
    reports = []
    for line in bytes(raw).split(b"\n"):
        if line:
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(entry, dict):
                continue
            for key in ("syntax_error", "load_error"):
                if key in entry:
                    entry[key] = error_info(entry[key])
            if "type" in entry or "message" in entry:
                entry.update(error_info(entry))
            if "time" in entry and type(entry["time"]) not in (int, float):
                entry["time"] = 0.0
            reports.append(entry)
    return reports


def stdin_file(job):
    """Script style: the job's stdin as a nameless file (a program reads it as it would a
    redirected file), or None for /dev/null."""
    if not job.get("script"):
        return None
    fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600)
    try:
        write_all(fd, job["stdin"].encode(errors="replace"))
    except BaseException:
        os.close(fd)
        raise
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


FETCH_CAP = 64 << 20  # bytes of fetched files per job, all together


def open_beneath(root_fd, path):
    """Opens `path` below the directory `root_fd` one component at a time, never following a
    symlink (a job's daemon may outlive it where the harness is not init of a namespace, and
    swap a component: no check-then-open race). A descriptor, or None."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    fd = os.dup(root_fd)
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | (0 if last else os.O_DIRECTORY)
            next_fd = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        return fd
    except OSError:
        os.close(fd)
        return None


def fetch_files(scratch, paths):
    """The fetched paths that are regular files inside the scratch directory, as base64; the
    rest are left out, as SandboxFusion does, and so is everything past FETCH_CAP bytes. A file
    named twice is read once."""
    fetched, seen, total = {}, {}, 0
    root = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for path in paths:
            fd = open_beneath(root, path)
            if fd is None:
                continue
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    continue
                key = (info.st_dev, info.st_ino)
                if key not in seen:
                    if total + info.st_size > FETCH_CAP:
                        continue
                    total += info.st_size
                    seen[key] = base64.b64encode(read_all(fd)).decode()
                fetched[path] = seen[key]
            finally:
                os.close(fd)
    finally:
        os.close(root)
    return fetched


# Fields of a job that its child receives. Never the expected outputs (a separate message) nor
# the tests of split assertions (only their calls).
CHILD_FIELDS = ("program", "entry_point", "inputs", "adapter", "time_limits", "record", "oracle", "hardened",
                "stdin_inputs", "script", "files", "limits", "timeout")


def child_job(job, plan, scratch, nonce):
    """What the child of `job` receives: its fields, each test whole or, when split, its calls."""
    part = {key: job[key] for key in CHILD_FIELDS if key in job}
    part["tests"] = [plan[index].child_part() if index in plan else {"source": source}
                     for index, source in enumerate(job["tests"])]
    part.update(scratch=scratch, nonce=nonce)
    return part


def run_job(job, expected_raw, zygote, ids, scratch):
    """Hands the job's pipes to the child the zygote forked ahead, feeds it its part of the job, judges it."""
    os.mkdir(scratch, 0o700)
    if ids[0] >= 0:
        os.chown(scratch, ids[0], ids[1])
    job["nonce"] = os.urandom(16).hex()
    plan = split_plan(job)
    stdin_fd = stdin_file(job)
    answers_r, answers_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    channel_r, channel_w = os.pipe()
    child_fds = [answers_r, stdout_w, stderr_w, channel_w] + ([stdin_fd] if stdin_fd is not None else [])
    start = time.monotonic()
    pid = zygote.spawn(child_fds)
    for fd in child_fds:
        os.close(fd)
    try:
        pidfd = os.pidfd_open(pid)  # the child waits for its job, so it cannot have ended yet
    except ProcessLookupError:
        raise ZygoteDied()
    try:
        write_all(answers_w, framed(json.dumps(child_job(job, plan, scratch, job["nonce"])).encode()))
    except BrokenPipeError:
        pass  # it died before reading: its status says how
    os.set_blocking(answers_w, False)
    split = SplitJudge(plan, answers_w, len(job["tests"])) if plan else None
    lines = ChannelLines(b'{"assert"', split.on_report) if split else None
    stdout, stderr, channel, dropped, timed_out = collect(
        pidfd, (stdout_r, stderr_r, channel_r), start + job["timeout"], job["limits"]["output"], lines)
    wall = time.monotonic() - start
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.close(pidfd)
    raw_status = zygote.wait()  # the child reaped and all it left killed
    status = -os.WTERMSIG(raw_status) if os.WIFSIGNALED(raw_status) else os.WEXITSTATUS(raw_status)
    for fd in (stdout_r, stderr_r, channel_r, answers_w):
        os.close(fd)
    fetched = fetch_files(scratch, job["fetch_files"]) if job.get("fetch_files") else None
    shutil.rmtree(scratch, ignore_errors=True)
    result = judge(job, parse_reports(channel), status, timed_out, expected_raw, dropped[channel_r], split)
    stdout, stdout_dropped = stdout.decode(errors="replace"), dropped[stdout_r]
    if "failed_test_stdout" in result:  # a stdin/stdout job shows what its first wrong test printed
        shown = result.pop("failed_test_stdout")
        stdout, stdout_dropped = shown[:job["limits"]["output"]], len(shown) > job["limits"]["output"]
    result.update(wall=wall, stdout=stdout, stderr=stderr.decode(errors="replace"), stdout_truncated=stdout_dropped,
                  stderr_truncated=dropped[stderr_r])
    if fetched is not None:
        result["files"] = fetched
    return result


def result_payload(raw, expected_raw, zygote, ids, scratch):
    try:
        result = run_job(json.loads(raw), expected_raw.decode(), zygote, ids, scratch)
    except ZygoteDied:
        raise
    except Exception as error:  # a harness fault is reported, never mistaken for a verdict
        result = {"harness_error": "%s: %s" % (type(error).__name__, error)}
    return json.dumps(result).encode()


def empty_tmp(scratch, namespaced):
    """After a job, nothing it left in /tmp reaches the next: in the worker's namespaces /tmp is
    the worker's own and is emptied; otherwise the job's scratch directory is removed again."""
    if not namespaced:
        shutil.rmtree(scratch, ignore_errors=True)
        return
    for entry in os.listdir("/tmp"):
        path = os.path.join("/tmp", entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


# ---- the zygote: the clean fork server ----

class ZygoteDied(Exception):
    pass


def prctl(option, value):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(%d, %d)" % (option, value))


PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


class Zygote:
    """The judge's handle on the zygote: a socket on which the zygote says which child it has
    forked ahead ("R" and its pid) and how that child ended ("D" and its wait status), and on
    which that waiting child receives its job's descriptors."""

    def __init__(self, ids, namespaced):
        self.socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            self.socket.close()
            zygote_main(theirs, ids, namespaced)
        theirs.close()

    def spawn(self, fds):
        """Hands `fds` to the child forked ahead; its pid."""
        while True:  # a "D" here: a waiting child died (killed from outside); the next one follows
            kind, value = self.receive()
            if kind == b"R":
                break
        socket.send_fds(self.socket, [b"job"], fds)
        return value

    def wait(self):
        """The wait status of the child, once it is reaped and what it left is killed."""
        kind, value = self.receive()
        if kind != b"D":
            raise ZygoteDied()
        return value

    def receive(self):
        data = self.socket.recv(16)
        if len(data) != 9:
            raise ZygoteDied()
        return data[:1], struct.unpack("<q", data[1:])[0]


def zygote_main(sock, ids, namespaced):
    """Forked from the judge at start-up, before any job: it never receives a job's bytes, so
    every child it forks is free of other jobs' data. It forks each child ahead of its job,
    while the judge answers the job before, and the child itself receives its descriptors."""
    try:
        os.close(CONTROL_IN)
        os.close(CONTROL_OUT)
        if namespaced:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a job come here, to be killed and reaped
        while True:
            pid = os.fork()
            if pid == 0:
                job_process(sock, ids)
            sock.send(b"R" + struct.pack("<q", pid))
            sock.send(b"D" + struct.pack("<q", reap_job(pid, namespaced)))
    finally:
        os._exit(0)


def reap_job(pid, namespaced):
    """Waits for the job's child (the judge kills it at its deadline), kills every process the
    job left and reaps them all; the child's wait status. In the worker's namespaces kill(-1)
    reaches every process but the zygote and the judge (init), daemons that left the child's
    process group included; without them only that group is reached."""
    if not namespaced:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # ended but not reaped: its group id stays its own
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _, raw_status = os.waitpid(pid, 0)
    if namespaced:
        kill_all_but_us()
    return raw_status


def kill_all_but_us():
    """Kills and reaps every process in the namespace but the zygote and init (the judge)."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main():
    send({"ready": True, "python": sys.version.split()[0], "numpy": numpy is not None})
    ids = tuple(int(x) for x in receive().split())
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 2)  # start-up errors went to the parent; later noise goes nowhere
    os.close(null)
    namespaced = os.getpid() == 1
    prctl(PR_SET_DUMPABLE, 0)  # no job reads the judge's memory through /proc, even under its own uid
    zygote = Zygote(ids, namespaced)
    number = 0
    while True:
        raw = receive()
        expected_raw = receive() if raw is not None else None
        if expected_raw is None:
            return
        number += 1
        scratch = "/tmp/job-%d-%s" % (number, os.urandom(6).hex())  # unguessable: no job prepares the next's
        try:
            payload = result_payload(raw, expected_raw, zygote, ids, scratch)
        except ZygoteDied:
            os._exit(1)  # codealign starts a new worker and runs the job again
        empty_tmp(scratch, namespaced)
        send_payload(payload)


if __name__ == "__main__":  # `python -c`; imported, the harness only defines (unit tests)
    main()
