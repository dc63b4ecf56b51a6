// The seccomp filter every sandboxed process runs under (private to the sandbox part).
#pragma once
#include <vector>

namespace codealign::sandbox {

// BPF program (struct sock_filter[]) that refuses, with EPERM: sockets other than AF_UNIX,
// ptrace and cross-process memory access, mount and namespace calls (including clone with
// CLONE_NEW* flags; clone3 answers ENOSYS so libc falls back to clone), keyrings, bpf,
// perf_event_open, io_uring, userfaultfd, module loading, reboot/kexec, swap, clock and host-name
// changes. Other architectures' syscalls kill the process.
std::vector<char> seccomp_filter_bpf();

}  // namespace codealign::sandbox
