# codealign sandbox harness: the fork server inside each worker's sandbox (pid 1 of its namespace).
#
# Protocol on fds 3 (in) and 4 (out); a message is an 8-byte little-endian length and bytes:
#   -> {"ready": true, ...}        <- "<uid> <gid>" the jobs switch to (-1: stay)
#   <- job (JSON, see executor.cpp) <- expected outputs (JSON text, empty unless comparing values or stdout)
#   -> result (JSON)
# Trust: this process is trusted, the child forked for a job is not. The child reports on a
# private pipe (its fd 3, a JSON object per line); the verdict is decided here from those
# reports, the child's exit status and the clock. A job that compares outputs (values, stdout)
# runs in a supervisor, a fork of this process that forks the child and only then reads the
# expected outputs, compares them with what the child reported, and dies with them: neither the
# child nor the children of later jobs, forked from this process, ever hold them.
import ast, base64, datetime, decimal, fractions, hashlib, json, linecache, math, os, pickle, resource, select, signal, stat, struct, sys, time, traceback

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

CONTROL_IN, CONTROL_OUT, CHANNEL = 3, 4, 3
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


def receive():
    header = read_exact(CONTROL_IN, 8)
    if header is None:
        return None
    (size,) = struct.unpack("<Q", header)
    return read_exact(CONTROL_IN, size) if size else b""


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


def send_payload(payload):
    write_all(CONTROL_OUT, struct.pack("<Q", len(payload)) + payload)


def send(obj):
    send_payload(json.dumps(obj).encode())


# ---- values: a JSON encoding that keeps Python types (tuple vs list, int vs float, sets) ----

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


def decode(value):
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    (tag, body), = value.items()
    if tag == "x":
        return int(body, 16)
    if tag == "h":
        return Digest(body)
    if tag == "t":
        return tuple(decode(item) for item in body)
    if tag == "s":
        return set(decode(item) for item in body)
    if tag == "f":
        return frozenset(decode(item) for item in body)
    if tag == "d":
        return {decode(k): decode(v) for k, v in body}
    if tag == "D":  # a defaultdict comes back as a plain dict: equality does not see the factory
        return MAPPING_TYPES_BY_NAME[body[0]]((decode(k), decode(v)) for k, v in body[1])
    if tag == "q":
        return collections.deque(decode(item) for item in body)
    if tag == "b":
        return bytes.fromhex(body)
    if tag == "c":
        return complex(body[0], body[1])
    if tag == "nd" and numpy is not None:
        return numpy.array(decode(body[1]), dtype=numpy.dtype(body[0]))
    if tag == "np" and numpy is not None:
        return numpy.dtype(body[0]).type(decode(body[1]))
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


# ---- hardened assertions ----
# An assertion runs inside the untrusted process, so a result object whose __eq__ always says
# True passes `assert f(x) == y`. Hardened mode rewrites every call in the tests so that what
# a function of the program returns to a test must be a plain value (exact built-in types,
# checked recursively) before the test may compare it; anything else fails the test as
# UntrustedValue. It stops value-level tricks (always-equal objects, overriding subclasses of
# int or str); code that deliberately tampers with the harness is outside its reach.

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
        try:
            namespace["__codealign_checked_call__"] = checked_call  # again each test: the program may rebind it
            exec(compile_test(test, index, hardened), namespace)
        except BaseException as error:
            report({"test": index, "ok": False, **describe(error)})
        else:
            report({"test": index, "ok": True})


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
# the supervisor compares it (judge), so the expected outputs never enter the child. Hardened
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


def child_main(job, scratch, stdout_w, stderr_w, channel_w, ids, stdin_fd):
    os.setsid()
    os.dup2(stdin_fd if stdin_fd is not None else os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(stdout_w, 1)
    os.dup2(stderr_w, 2)
    os.dup2(channel_w, CHANNEL)
    os.closerange(4, 1 << 16)
    os.chdir(scratch)
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


# ---- the fork server ----

def collect(pid, fds, deadline, output_cap):
    """Reads the child's stdout, stderr and reports until it exits or the deadline passes."""
    stdout_r, stderr_r, channel_r = fds
    buffers = {stdout_r: bytearray(), stderr_r: bytearray(), channel_r: bytearray()}
    caps = {stdout_r: output_cap, stderr_r: output_cap, channel_r: CHANNEL_CAP}
    dropped = {stdout_r: False, stderr_r: False, channel_r: False}
    pidfd = os.pidfd_open(pid)
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
    os.close(pidfd)
    return buffers[stdout_r], buffers[stderr_r], buffers[channel_r], dropped, timed_out


def kill_namespace():
    """As init of the job's pid namespace: kills every process the job left (daemons that left
    its process group included), since kill(-1) reaches everything but us, and reaps them all."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def kill_leftovers(pid):
    """Kills every process the job left (daemons included) and reaps them all. The fork server,
    as init of the namespace, reaches them all by kill(-1); a supervisor (or a server without a
    namespace) kills the job's process group, which its child `pid` made, and the server, as
    init, then kills what left that group (clean_up)."""
    if os.getpid() == 1:
        kill_namespace()
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


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


def judge(job, reports, status, timed_out, expected_raw, channel_dropped):
    """The verdict from the child's reports, its exit status and the clock."""
    if job.get("script"):
        return judge_script(job, reports, status, timed_out)
    result = {"tests_total": len(job["stdin_inputs"] or job["tests"]) if not job["entry_point"] else None,
              "tests_passed": 0, "test_passed": [], "error_type": "", "message": ""}
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
                values.append(entry["value"])
            else:
                ok = index < len(expected) and comparison.matches(decode(entry["value"]), expected[index], inputs[index])
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
    if timed_out or (first_failure and first_failure["type"] == "Timeout") or signal_number == signal.SIGXCPU:
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


def parse_reports(raw):
    reports = []
    for line in bytes(raw).split(b"\n"):
        if line:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
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


def run_job(job, scratch, ids):
    """Runs the job's child, then judges it (in the job's supervisor when it compares outputs)."""
    os.mkdir(scratch, 0o700)
    if ids[0] >= 0:
        os.chown(scratch, ids[0], ids[1])
    job["nonce"] = os.urandom(16).hex()
    stdin_fd = stdin_file(job)
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    channel_r, channel_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child_main(job, scratch, stdout_w, stderr_w, channel_w, ids, stdin_fd)
        finally:
            os._exit(1 if job.get("script") else 0)  # a script job ends in run_script_job unless the harness failed
    for fd in (stdout_w, stderr_w, channel_w) + ((stdin_fd,) if stdin_fd is not None else ()):
        os.close(fd)
    expected_raw = receive() or b""
    stdout, stderr, channel, dropped, timed_out = collect(
        pid, (stdout_r, stderr_r, channel_r), start + job["timeout"], job["limits"]["output"])
    wall = time.monotonic() - start
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, raw_status = os.waitpid(pid, 0)
    status = -os.WTERMSIG(raw_status) if os.WIFSIGNALED(raw_status) else os.WEXITSTATUS(raw_status)
    kill_leftovers(pid)
    for fd in (stdout_r, stderr_r, channel_r):
        os.close(fd)
    fetched = fetch_files(scratch, job["fetch_files"]) if job.get("fetch_files") else None
    shutil.rmtree(scratch, ignore_errors=True)
    result = judge(job, parse_reports(channel), status, timed_out, expected_raw.decode(), dropped[channel_r])
    stdout, stdout_dropped = stdout.decode(errors="replace"), dropped[stdout_r]
    if "failed_test_stdout" in result:  # a stdin/stdout job shows what its first wrong test printed
        shown = result.pop("failed_test_stdout")
        stdout, stdout_dropped = shown[:job["limits"]["output"]], len(shown) > job["limits"]["output"]
    result.update(wall=wall, stdout=stdout, stderr=stderr.decode(errors="replace"), stdout_truncated=stdout_dropped,
                  stderr_truncated=dropped[stderr_r])
    if fetched is not None:
        result["files"] = fetched
    return result


def compares_outputs(job):
    """Whether the job gets expected outputs: value jobs that are not ground truth, and
    stdin/stdout jobs. Assertion and ground-truth jobs get none."""
    return bool(job["stdin_inputs"]) or (bool(job["entry_point"]) and not job["record"])


def result_payload(job, scratch, ids):
    try:
        result = run_job(job, scratch, ids)
    except Exception as error:  # a harness fault is reported, never mistaken for a verdict
        result = {"harness_error": "%s: %s" % (type(error).__name__, error)}
    return json.dumps(result).encode()


def supervised_payload(job, scratch, ids):
    """result_payload in a fork of this server, the job's supervisor. The supervisor forks the
    job's child and only then reads the expected outputs, so the child never holds them; and as
    they die with the supervisor, they never linger in this server's memory either, from which
    every later job's child is forked. (One more fork: only for the jobs that compare.)"""
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(result_r)
            write_all(result_w, result_payload(job, scratch, ids))
        finally:
            os._exit(0)
    os.close(result_w)
    payload = read_all(result_r)
    os.close(result_r)
    os.waitpid(pid, 0)
    return payload or json.dumps({"harness_error": "the job's supervisor died"}).encode()


def clean_up(scratch):
    """After a job: as init of its pid namespace (which has a /tmp of its own), kill what
    escaped its process group too and empty /tmp, so that nothing a job left there reaches the
    next; otherwise remove its scratch directory again, now that nothing can write there."""
    if os.getpid() != 1:
        shutil.rmtree(scratch, ignore_errors=True)
        return
    kill_namespace()
    for entry in os.listdir("/tmp"):
        path = os.path.join("/tmp", entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def main():
    send({"ready": True, "python": sys.version.split()[0], "numpy": numpy is not None})
    ids = tuple(int(x) for x in receive().split())
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 2)  # start-up errors went to the parent; later noise goes nowhere
    os.close(null)
    number = 0
    while True:
        raw = receive()
        if raw is None:
            return
        number += 1
        scratch = "/tmp/job-%d-%s" % (number, os.urandom(6).hex())  # unguessable: no job prepares the next's
        job = json.loads(raw)
        payload = (supervised_payload if compares_outputs(job) else result_payload)(job, scratch, ids)
        clean_up(scratch)
        send_payload(payload)


main()
