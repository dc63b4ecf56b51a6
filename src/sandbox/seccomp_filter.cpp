#include "sandbox/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace codealign::sandbox {
namespace {

const char* const refused_calls[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "reboot", "kexec_load", "kexec_file_load",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "iopl", "ioperm", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
};

const unsigned long namespace_flags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
                                         CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME};

void check(int rc, const char* what) {
  if (rc < 0) throw system_error(std::string("sandbox: seccomp rule '") + what + "' failed", -rc);
}

}  // namespace

std::vector<char> seccomp_filter_bpf() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) throw Error("sandbox: seccomp_init failed");
  try {
    for (const char* name : refused_calls) {
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
      check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0), name);
    }
    check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                           SCMP_A0(SCMP_CMP_NE, AF_UNIX)), "socket");
    for (unsigned long flag : namespace_flags)
      check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)), "clone");
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (clone3 != __NR_SCMP_ERROR) check(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0), "clone3");

    int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0) throw system_error("sandbox: memfd_create", errno);
    int rc = seccomp_export_bpf(ctx, fd);
    std::vector<char> program(lseek(fd, 0, SEEK_END));
    bool ok = rc == 0 && pread(fd, program.data(), program.size(), 0) == static_cast<ssize_t>(program.size());
    close(fd);
    if (!ok) throw Error("sandbox: cannot export the seccomp filter");
    seccomp_release(ctx);
    return program;
  } catch (...) {
    seccomp_release(ctx);
    throw;
  }
}

}  // namespace codealign::sandbox
