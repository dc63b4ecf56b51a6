// Starting a worker's interpreter inside fresh namespaces (private to the sandbox part).
// Parent side: clone, uid/gid maps, start-up error pipe. Child side, in this fixed order, failing
// closed: wait for the maps, private mounts, new read-only root, /dev, /proc, /tmp, pivot_root,
// descriptors, no-new-privs, seccomp, execve.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace codealign::sandbox {

struct ContainerSpec {
  std::string interpreter;
  std::vector<std::string> args;  // after argv[0]
  size_t scratch_bytes;
  int index;  // worker number, picks the outer uids
};

struct Container {
  pid_t pid = -1;
  int to_child = -1;    // the child's fd 3
  int from_child = -1;  // the child's fd 4
  int child_stderr = -1;
  int sandbox_uid = -1, sandbox_gid = -1;  // uid/gid the jobs switch to, -1 to stay
};

// Starts the interpreter; throws Error naming the step that failed. The first call settles the
// isolation level for the process (see isolation_description()).
Container container_start(const ContainerSpec& spec, const std::vector<char>& seccomp_bpf);

// E.g. "user,pid,net,mount,ipc,uts namespaces; read-only root; seccomp", or the fallback.
std::string isolation_description();

}  // namespace codealign::sandbox
