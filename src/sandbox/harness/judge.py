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


