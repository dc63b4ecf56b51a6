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


