// The judged program is the verdict's adversary: it may tamper with everything in its own
// process. Each attack below returns wrong values and forges, patches or hijacks the harness
// around it; in hardened mode none passes, because split assertions are decided by the judge,
// outside the program's process, on the values alone. And no job finds anything of an earlier
// job, in its memory, in other processes' memory or on disk.
// Jobs get a timeout far beyond their work, so that no verdict depends on speed.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace codealign::sandbox {

void PrintTo(Verdict verdict, std::ostream* out) { *out << verdict_name(verdict); }

namespace {

constexpr double must_finish_s = 120.0;

// HumanEval's shape (check(candidate) after its imports) and MBPP's (one assert a test), with
// every split shape: ==, abs(...) < eps, math.isclose, in, not, bare.
const std::vector<std::string> humaneval_tests = {
    "import math\n\n\ndef check(candidate):\n    assert candidate(1) == 2\n    assert abs(candidate(2) - 3) < 1e-9\n"
    "    assert math.isclose(candidate(3), 4)\n    assert candidate(4) in (5, 6)\n    assert not candidate(0) != 1\n"
    "    assert candidate(-1) == 0, 'f(-1)'\n\ncheck(f)\n"};
const std::vector<std::string> mbpp_tests = {"assert f(1) == 2", "assert abs(f(2) - 3) < 1e-9",
                                             "import math\nassert math.isclose(f(3), 4, rel_tol=1e-9)",
                                             "assert f(4) in (5, 6)", "assert not f(-1)"};
// Only the shapes that patched built-ins can fake.
const std::vector<std::string> float_tests = {
    "import math\n\n\ndef check(candidate):\n    assert abs(candidate(2) - 3) < 1e-9\n"
    "    assert math.isclose(candidate(3), 4)\n\ncheck(f)\n"};

// The start of the attacks that forge reports: f returns wrong values, and `lines` are the
// report lines of a passing job, its nonce found in the harness's frames.
const std::string forged_report = R"(
import json, os, sys
def f(x):
    return -1
frame, state = sys._getframe(), {}
while frame is not None:
    state = next((v for v in frame.f_locals.values() if isinstance(v, dict) and "nonce" in v), state)
    frame = frame.f_back
lines = [{"test": i, "ok": True} for i in range(len(state.get("tests", [1])))] + [{"done": state.get("nonce")}]
)";

struct Attack {
  const char* name;
  std::string program;  // defines f, which returns wrong values
};

const Attack attacks[] = {
    {"walks its stack frames to the job's state and forges a passing report with its nonce", R"(
import json, os, sys
def f(x):
    return -1
found, frame = [], sys._getframe()
while frame is not None:
    found += [v for v in list(frame.f_locals.values()) if isinstance(v, dict) and "nonce" in v]
    frame = frame.f_back
lines = []
for state in found:
    for index, test in enumerate(state.get("tests", [])):
        lines.append({"test": index, "ok": True})
        for number, calls in enumerate(test.get("asserts", []) if isinstance(test, dict) else []):
            lines.append({"assert": [index, number], "values": [True] * len(calls)})
    lines.append({"done": state["nonce"]})
os.write(3, "".join(json.dumps(line) + "\n" for line in lines).encode())
os._exit(0)
)"},
    {"finds the harness through gc and replaces what runs and reports the tests", R"(
import gc
def f(x):
    return -1
for harness in [o for o in gc.get_objects() if isinstance(o, dict) and "report" in o and "main" in o]:
    def lying_report(entry, real_report=harness["report"]):
        if isinstance(entry, dict) and "test" in entry:
            entry = {"test": entry["test"], "ok": True}
        real_report(entry)
    harness["report"] = lying_report
    harness["compile_test"] = lambda *args, **kwargs: compile("pass", "<test>", "exec")
    harness["checked_call"] = lambda function, *args, **kwargs: True
    for name in ("carried", "encode", "wire_value"):
        harness[name] = lambda value, *rest: True
)"},
    {"rewrites the harness's reports and values from a trace and a profile function", R"(
import sys, threading
def f(x):
    return -1
def tracer(frame, event, arg):
    for value in list(frame.f_locals.values()):
        if isinstance(value, dict) and "test" in value:
            value["ok"] = True
            value.pop("type", None)
        if isinstance(value, dict) and isinstance(value.get("values"), list):
            value["values"] = [True] * len(value["values"])
    return tracer
sys.settrace(tracer)
sys.setprofile(lambda frame, event, arg: tracer(frame, "call", arg))
threading.settrace(tracer)
)"},
    {"forges passing reports at once, from a thread that finishes late and from atexit", forged_report + R"(
import atexit, threading, time
def forge(times=200):
    for _ in range(times):
        try:
            os.write(3, "".join(json.dumps(line) + "\n" for line in lines).encode())
        except OSError:
            return
        time.sleep(0.001)
forge(1)
threading.Thread(target=forge).start()
atexit.register(forge)
)"},
    {"writes a passing report to every open descriptor and exits", forged_report + R"(
for fd in range(256):
    try:
        os.write(fd, "".join(json.dumps(line) + "\n" for line in lines).encode())
    except OSError:
        pass
os._exit(0)
)"},
    {"monkeypatches the built-ins and math functions the tests compare with", R"(
import builtins, math
builtins.abs = lambda x: 0
math.isclose = lambda *args, **kwargs: True
def f(x):
    return -1
)"},
    {"defines its own abs and isclose, which the tests compare with", R"(
def abs(x):
    return 0
def isclose(*args, **kwargs):
    return True
import math
math.isclose = isclose
def f(x):
    return -1
)"},
    {"returns objects whose comparisons raise BaseException subclasses", R"(
class Escape(BaseException):
    pass
class Bomb:
    def __eq__(self, other):
        raise Escape()
    __ne__ = __eq__
    def __bool__(self):
        raise SystemExit(0)
def f(x):
    return Bomb()
)"},
    {"returns always-equal ints whose __del__ forges passing reports", R"(
import os
class Ghost(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
    def __del__(self):
        try:
            os.write(3, b'{"test": 0, "ok": true}\n{"test": 1, "ok": true}\n')
        except OSError:
            pass
def f(x):
    return Ghost(-1)
)"},
};

class Tampering : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Config config = testing::test_config(must_finish_s);
    config.workers = 1;  // one worker: every job runs after the one before in the same sandbox
    executor = new Executor(config);
  }
  static void TearDownTestSuite() { delete executor; }
  static Outcome run(const std::string& program, const std::vector<std::string>& tests, bool hardened) {
    Job job;
    job.program = program;
    job.tests = tests;
    job.hardened = hardened;
    return executor->run_one(job);
  }
  static Executor* executor;
};
Executor* Tampering::executor = nullptr;

TEST_F(Tampering, NoAttackPassesHardenedTests) {
  for (const Attack& attack : attacks)
    for (const auto* tests : {&humaneval_tests, &mbpp_tests, &float_tests}) {
      Outcome o = run(attack.program, *tests, true);
      EXPECT_NE(o.verdict, Verdict::passed) << "the program that " << attack.name << " passed " << tests->front();
      EXPECT_EQ(o.tests_passed, 0) << attack.name << ": " << tests->front();
      EXPECT_EQ(o.tests_unprotected, 0) << tests->front();
    }
}

// The attacks are real: the same programs pass the official semantics, where the assertions
// run in the program's process (and so do unsplittable tests in hardened mode).
TEST_F(Tampering, TheAttacksPassWhereTheTestsRunInTheProgramsProcess) {
  for (const Attack& attack : attacks) {
    std::string name = attack.name;
    if (name.find("BaseException") != std::string::npos || name.find("always-equal") != std::string::npos)
      continue;  // value-level tricks, which hardened in-process tests stop as well
    bool builtins = name.find("monkeypatches") != std::string::npos || name.find("its own abs") != std::string::npos;
    const auto& tests = builtins ? float_tests : humaneval_tests;
    Outcome o = run(attack.program, tests, false);
    EXPECT_EQ(o.verdict, Verdict::passed) << attack.name << ": " << o.error_type << " " << o.message;
    EXPECT_EQ(o.tests_unprotected, 1);
  }
}

TEST_F(Tampering, HonestProgramsPassSplitTestsWithNothingUnprotected) {
  const std::string honest = "def f(x):\n    return x + 1 if x != 4 else 5\n";
  for (const auto* tests : {&humaneval_tests, &mbpp_tests, &float_tests}) {
    Outcome o = run(honest, *tests, true);
    EXPECT_EQ(o.verdict, Verdict::passed) << tests->front() << "\n" << o.error_type << ": " << o.message;
    EXPECT_EQ(o.tests_unprotected, 0);
  }
  // A test of another shape still runs, in the program's process, and is counted.
  Outcome loop = run(honest, {"assert f(1) == 2", "for x in range(3):\n    assert f(x) == x + 1"}, true);
  EXPECT_EQ(loop.verdict, Verdict::passed) << loop.error_type << ": " << loop.message;
  EXPECT_EQ(loop.tests_unprotected, 1);
}

// ---- nothing of one job reaches a later one ----

std::string base64(const std::string& bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    for (size_t k = 0; k < 4; ++k) out += i + k <= bytes.size() ? alphabet[(chunk >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string random_marker(const std::string& what) {
  static std::mt19937_64 random{std::random_device{}()};
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(random()));
  return "codealign-" + what + "-" + digits;
}

// A script that looks for each marker in its own memory (all its readable pages but those of
// files mapped read-only), in every other process's memory it can read and in the files under /tmp, and prints what it found as JSON. It holds each
// marker as two halves that it never joins, so that only an earlier job's copy can match; the
// marker "probe" is joined on purpose, to show that the scan does find what is in memory.
std::string scanner(const std::map<std::string, std::string>& markers) {
  nlohmann::json halves = nlohmann::json::object();
  for (const auto& [name, marker] : markers)
    halves[name] = {marker.substr(0, marker.size() / 2), marker.substr(marker.size() / 2)};
  return "import json, os\n"
         "HALVES = {name: (a.encode(), b.encode()) for name, (a, b) in json.loads(" + nlohmann::json(halves.dump()).dump() + ").items()}\n"
         R"(PROBE = b"codealign-probe-" + b"%d" % os.getpid()
HALVES["probe"] = (PROBE[:12], PROBE[12:])
def search(data, found):
    for name, (a, b) in HALVES.items():
        at = data.find(a)
        while at >= 0 and name not in found:
            if data[at + len(a):at + len(a) + len(b)] == b:
                found.add(name)
            at = data.find(a, at + 1)
def regions(pid):
    for line in open("/proc/%s/maps" % pid):
        fields = line.split()
        perms, path = fields[1], fields[5] if len(fields) > 5 else ""
        if perms[0] == "r" and (path in ("", "[heap]", "[stack]") or (perms[1] == "w" and path.startswith("/"))):
            yield tuple(int(x, 16) for x in fields[0].split("-"))
def scan_own_memory(found):  # with ctypes: a job that changed its uid cannot open its /proc/self/mem
    import ctypes
    for start, end in regions("self"):
        for at in range(start, end, 1 << 24):
            search(ctypes.string_at(at, min((1 << 24) + 256, end - at)), found)
def scan_memory(pid, found):
    try:
        memory, spans = os.open("/proc/%s/mem" % pid, os.O_RDONLY), list(regions(pid))
    except OSError:
        return False
    try:
        for start, end in spans:
            for at in range(start, end, 1 << 24):
                try:
                    search(os.pread(memory, min((1 << 24) + 256, end - at), at), found)
                except OSError:
                    break
    finally:
        os.close(memory)
    return True
own, others, files, readable = set(), set(), set(), []
scan_own_memory(own)
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid() and scan_memory(pid, others):
        readable.append(int(pid))
for directory, _, names in os.walk("/tmp"):
    for name in names:
        try:
            search(open(os.path.join(directory, name), "rb").read(), files)
        except OSError:
            pass
print(json.dumps({"own": sorted(own), "others": sorted(others), "files": sorted(files), "readable": readable}))
)";
}

TEST_F(Tampering, ALaterJobFindsNothingOfEarlierJobs) {
  std::map<std::string, std::string> markers;
  for (const char* what : {"program", "expected", "input", "output", "stdin", "file"}) markers[what] = random_marker(what);
  std::vector<Job> earlier(5);
  // Assertion tests, hardened (split) and not: the program and the expected side.
  earlier[0].program = "# " + markers["program"] + "\ndef f():\n    return 1\n";
  earlier[0].tests = {"assert f() != '" + markers["expected"] + "'"};
  earlier[0].hardened = true;
  earlier[1] = earlier[0];
  earlier[1].hardened = false;
  // Value tests: inputs and expected outputs.
  earlier[2].program = "def g(x):\n    return x\n";
  earlier[2].entry_point = "g";
  earlier[2].inputs_json = "[[\"" + markers["input"] + "\"]]";
  earlier[2].expected_json = "[\"" + markers["output"] + "\"]";
  // A script with its stdin and a file, and a stdin/stdout job.
  earlier[3].script = true;
  earlier[3].program = "print(open('data.txt').read(), input())";
  earlier[3].stdin_text = markers["stdin"] + "\n";
  earlier[3].files_base64 = {{"data.txt", base64(markers["file"])}};
  earlier[4].program = "print(input())";
  earlier[4].stdin_inputs = {markers["stdin"] + "\n"};
  earlier[4].expected_json = "[\"" + markers["output"] + "\"]";
  for (const Job& job : earlier) executor->run_one(job);

  Job later;
  later.script = true;
  later.program = scanner(markers);
  Outcome o = executor->run_one(later);
  ASSERT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message << "\n" << o.stderr_text;
  auto found = nlohmann::json::parse(o.stdout_text);
  EXPECT_EQ(found["own"], nlohmann::json({"probe"})) << "the scan must find its own probe, and only it";
  EXPECT_EQ(found["others"], nlohmann::json::array()) << "readable processes: " << found["readable"];
  EXPECT_EQ(found["files"], nlohmann::json::array());
}

// Defence in depth: even the judge, root of the sandbox's user namespace, holds only the
// capabilities it needs (chown, file access, kill, setuid/setgid for the jobs); nothing a job
// runs can gain more.
TEST_F(Tampering, TheCapabilityBoundingSetIsDropped) {
  Job job;
  job.script = true;
  job.program = "print(dict(l.split(':\\t') for l in open('/proc/self/status').read().splitlines())['CapBnd'])";
  Outcome o = executor->run_one(job);
  ASSERT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  EXPECT_EQ(o.stdout_text, "00000000000000ef\n");
}

}  // namespace
}  // namespace codealign::sandbox
