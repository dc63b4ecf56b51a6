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
