#!/usr/bin/env python3
"""The floor of a sandboxed job on this machine: a minimal fork-server loop in plain Python,
outside any sandbox, doing per job what any fork server must (pipes, fork, rlimits in the
child, a one-line program, select on a pidfd, reap, remove a scratch directory).
Usage: fork_server_floor.py JOBS -> one JSON line {"jobs", "seconds"}."""
import json
import os
import resource
import select
import shutil
import sys
import tempfile
import time


def run_job(number, root):
    scratch = os.path.join(root, "job-%d" % number)
    os.mkdir(scratch)
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(out_w, 1)
        os.chdir(scratch)
        resource.setrlimit(resource.RLIMIT_CPU, (4, 4))
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        namespace = {}
        exec(compile("def f(): return %d\nassert f() == %d\n" % (number, number), "<job>", "exec"), namespace)
        os.write(1, b"ok\n")
        os._exit(0)
    os.close(out_w)
    pidfd = os.pidfd_open(pid)
    fds, exited, output = [out_r, pidfd], False, b""
    while fds:
        ready, _, _ = select.select(fds, [], [], 5)
        for fd in ready:
            if fd == pidfd:
                fds.remove(pidfd)
                continue
            data = os.read(fd, 65536)
            if not data:
                fds.remove(fd)
            output += data
    os.waitpid(pid, 0)
    os.close(pidfd)
    os.close(out_r)
    shutil.rmtree(scratch)
    assert output == b"ok\n"


def main():
    jobs = int(sys.argv[1])
    root = tempfile.mkdtemp()
    start = time.monotonic()
    for number in range(jobs):
        run_job(number, root)
    seconds = time.monotonic() - start
    shutil.rmtree(root)
    print(json.dumps({"jobs": jobs, "seconds": seconds}))


main()
