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


