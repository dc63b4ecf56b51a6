#include "sandbox/container.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/error.h"

namespace codealign::sandbox {
namespace {

// Isolation levels, strongest first; the first that the kernel grants is kept for the process.
enum class Level { full, no_user_namespace, none };

constexpr int all_namespaces = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

std::once_flag level_once;
Level settled_level = Level::full;
std::string fallback_reason;

// Host paths made visible read-only inside the sandbox (when present).
const char* const system_dirs[] = {"/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"};
const char* const system_files[] = {"/etc/ld.so.cache", "/etc/localtime"};
// Debian resolves shared libraries (BLAS, LAPACK for numpy) and other defaults through the
// symlinks in this directory; the links are mirrored, never the host's /etc itself.
constexpr const char* alternatives_dir = "/etc/alternatives";
const char* const devices[] = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};
constexpr const char* new_root = "/tmp";  // mount point of the new root inside the private namespace

// Everything the child needs, computed before clone: after clone the child only makes syscalls.
struct Plan {
  struct Entry {
    enum Kind { bind_dir, bind_file, symlink, device } kind;
    std::string source, target, link_target;
    std::vector<std::string> parents;  // directories to create first, outermost first
  };
  std::vector<Entry> entries;
  std::string scratch_options;
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
  const std::vector<char>* bpf;
  bool mounts = true, user_namespace = true;
  int sync_read = -1, error_write = -1, to_child_read = -1, from_child_write = -1, stderr_write = -1;
};

std::vector<std::string> parent_dirs(const std::string& path) {
  std::vector<std::string> dirs;
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    dirs.push_back(std::string(new_root) + path.substr(0, slash));
  return dirs;
}

void add_host_path(Plan& plan, const std::string& path, bool is_device = false) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  Plan::Entry entry{Plan::Entry::bind_dir, path, std::string(new_root) + path, "", parent_dirs(path)};
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) return;
    entry.kind = Plan::Entry::symlink;
    entry.link_target.assign(target, n);
  } else if (is_device) {
    entry.kind = Plan::Entry::device;
  } else if (!S_ISDIR(st.st_mode)) {
    entry.kind = Plan::Entry::bind_file;
  }
  plan.entries.push_back(entry);
}

void add_alternatives(Plan& plan) {
  DIR* dir = opendir(alternatives_dir);
  if (!dir) return;
  while (const dirent* entry = readdir(dir))
    if (entry->d_type == DT_LNK) add_host_path(plan, std::string(alternatives_dir) + "/" + entry->d_name);
  closedir(dir);
}

// The interpreter's installation prefix when it lives outside the system directories
// (e.g. /opt/python3.12), so that its standard library is visible.
std::string interpreter_prefix(const std::string& interpreter) {
  char resolved[PATH_MAX];
  if (!realpath(interpreter.c_str(), resolved)) throw system_error("sandbox: interpreter '" + interpreter + "'", errno);
  std::string path = resolved;
  for (const char* dir : system_dirs)
    if (path.rfind(std::string(dir) + "/", 0) == 0) return "";
  std::string bin = path.substr(0, path.rfind('/'));
  return bin.substr(0, bin.rfind('/'));
}

// ---- child side: only async-signal-safe calls from here until execve ----

[[noreturn]] void child_fail(const Plan& plan, const char* step) {
  int saved = errno;
  char message[256];
  int n = std::snprintf(message, sizeof message, "%s: %s", step, std::strerror(saved));
  if (write(plan.error_write, message, n) < 0) {}
  _exit(127);
}

void make_dirs(const Plan& plan, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs)
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) child_fail(plan, "mkdir");
}

// Bind mounts keep the locked flags of their source in a user namespace; a read-only remount
// must repeat them or the kernel refuses it.
void remount_read_only(const Plan& plan, const char* target) {
  struct statfs fs;
  if (statfs(target, &fs) != 0) child_fail(plan, "statfs");
  unsigned long kept = fs.f_flags & (MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | kept, nullptr) != 0)
    child_fail(plan, "remount read-only");
}

void build_root(const Plan& plan) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(plan, "make mounts private");
  if (mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") != 0) child_fail(plan, "mount root tmpfs");
  if (mkdir("/tmp/dev", 0755) != 0 || mount("tmpfs", "/tmp/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755") != 0)
    child_fail(plan, "mount /dev");
  for (const auto& e : plan.entries) {
    make_dirs(plan, e.parents);
    switch (e.kind) {
      case Plan::Entry::symlink:
        if (symlink(e.link_target.c_str(), e.target.c_str()) != 0) child_fail(plan, "symlink");
        break;
      case Plan::Entry::bind_dir:
        if (mkdir(e.target.c_str(), 0755) != 0 && errno != EEXIST) child_fail(plan, "mkdir");
        if (mount(e.source.c_str(), e.target.c_str(), nullptr, MS_BIND, nullptr) != 0) child_fail(plan, "bind mount");
        remount_read_only(plan, e.target.c_str());
        break;
      case Plan::Entry::bind_file:
      case Plan::Entry::device: {
        int fd = open(e.target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) child_fail(plan, "create mount point");
        close(fd);
        if (mount(e.source.c_str(), e.target.c_str(), nullptr, MS_BIND, nullptr) != 0) child_fail(plan, "bind mount");
        if (e.kind == Plan::Entry::bind_file) remount_read_only(plan, e.target.c_str());
        break;
      }
    }
  }
  if (mkdir("/tmp/proc", 0555) != 0 || mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    child_fail(plan, "mount /proc");
  if (mkdir("/tmp/tmp", 01777) != 0 ||
      mount("tmpfs", "/tmp/tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan.scratch_options.c_str()) != 0)
    child_fail(plan, "mount /tmp");
  if (mkdir("/tmp/.old", 0700) != 0) child_fail(plan, "mkdir .old");
  if (syscall(SYS_pivot_root, "/tmp", "/tmp/.old") != 0) child_fail(plan, "pivot_root");
  if (chdir("/") != 0) child_fail(plan, "chdir /");
  if (umount2("/.old", MNT_DETACH) != 0) child_fail(plan, "detach old root");
  if (rmdir("/.old") != 0) child_fail(plan, "rmdir .old");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=0755") != 0)
    child_fail(plan, "remount root read-only");
  if (sethostname("sandbox", 7) != 0) child_fail(plan, "sethostname");
}

// The capabilities the harness keeps: it creates and removes the jobs' scratch directories
// (chown, file access beyond owner checks), switches each job to its uid and kills what a job
// leaves. Every other one leaves the bounding set, so that nothing in the sandbox, the harness
// included, can ever hold it, whatever it executes.
constexpr unsigned long long kept_capabilities = 1ull << CAP_CHOWN | 1ull << CAP_DAC_OVERRIDE |
                                                 1ull << CAP_DAC_READ_SEARCH | 1ull << CAP_FOWNER | 1ull << CAP_KILL |
                                                 1ull << CAP_SETGID | 1ull << CAP_SETUID;

void drop_capability_bounding_set(const Plan& plan) {
  // Without a user namespace and as an ordinary user there is nothing to drop (and no right to).
  if (!plan.user_namespace && geteuid() != 0) return;
  for (int capability = 0; capability < 64; ++capability) {
    if (kept_capabilities >> capability & 1) continue;
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;  // past the kernel's last capability
    child_fail(plan, "PR_CAPBSET_DROP");
  }
}

[[noreturn]] void child_main(Plan& plan) {
  char go;
  if (read(plan.sync_read, &go, 1) != 1) child_fail(plan, "wait for uid map");
  // Become the namespace's root, which the maps tie to an unprivileged outer uid.
  // Raw system calls: glibc's setresuid/setresgid signal every thread the parent had, and a
  // clone of a multithreaded process waits forever for threads it does not have.
  if (plan.user_namespace && (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0))
    child_fail(plan, "setresuid");
  if (plan.mounts) build_root(plan);
  // Descriptors: 0 /dev/null, 1 /dev/null, 2 start-up errors, 3 jobs in, 4 results out.
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) child_fail(plan, "open /dev/null");
  // Move the pipes above 10 first so that dup2 onto 0-4 cannot clobber one of them.
  int in = fcntl(plan.to_child_read, F_DUPFD, 10), out = fcntl(plan.from_child_write, F_DUPFD, 10),
      err = fcntl(plan.stderr_write, F_DUPFD, 10);
  if (in < 0 || out < 0 || err < 0) child_fail(plan, "dup");
  if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(err, 2) < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0)
    child_fail(plan, "dup2");
  int error_fd = fcntl(plan.error_write, F_DUPFD_CLOEXEC, 5);
  if (error_fd < 0) child_fail(plan, "dup error pipe");
  plan.error_write = error_fd;
  for (int fd = 5; fd < 1024; ++fd)
    if (fd != error_fd) close(fd);
  if (syscall(SYS_close_range, 1024, ~0u, 0) != 0 && errno != ENOSYS) child_fail(plan, "close_range");
  // No PR_SET_PDEATHSIG: it fires when the *thread* that cloned us ends, and pool threads come and
  // go. If codealign dies, the worker reads EOF on fd 3 and exits (after the job in hand, which its
  // timeout bounds); as pid 1 its exit kills everything in its namespace.
  drop_capability_bounding_set(plan);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(plan, "PR_SET_NO_NEW_PRIVS");
  sock_fprog filter{static_cast<unsigned short>(plan.bpf->size() / sizeof(sock_filter)),
                    reinterpret_cast<sock_filter*>(const_cast<char*>(plan.bpf->data()))};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) child_fail(plan, "seccomp");
  // Signals blocked by the caller (a server waiting for SIGTERM on one thread) are not the job's.
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(plan, "sigprocmask");
  // One hash seed for every worker, so that equal sets iterate alike in all of them (digests).
  char seed[] = "PYTHONHASHSEED=0";
  char* env[] = {seed, nullptr};
  execve(plan.argv[0], plan.argv.data(), env);
  child_fail(plan, "execve");
}

// ---- parent side ----

void write_proc_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw system_error("sandbox: open " + path, errno);
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int saved = errno;
  close(fd);
  if (!ok) throw system_error("sandbox: write " + path + " '" + text + "'", saved);
}

int clone_flags(Level level) {
  switch (level) {
    case Level::full: return all_namespaces;
    case Level::no_user_namespace: return all_namespaces & ~CLONE_NEWUSER;
    case Level::none: return 0;
  }
  return 0;
}

pid_t clone_child(int flags) {
  return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

// Picks the strongest level this kernel and user allow, once per process.
void settle_level() {
  std::call_once(level_once, [] {
    for (Level level : {Level::full, Level::no_user_namespace}) {
      if (level == Level::no_user_namespace && geteuid() != 0) break;
      pid_t pid = clone_child(clone_flags(level));
      if (pid == 0) _exit(0);
      if (pid > 0) {
        waitpid(pid, nullptr, 0);
        settled_level = level;
        return;
      }
      fallback_reason += std::string(level == Level::full ? "user namespaces" : "namespaces") + " refused (" +
                         std::strerror(errno) + "); ";
    }
    settled_level = Level::none;
  });
  static std::atomic<bool> warned{false};
  if (settled_level != Level::full && !warned.exchange(true))
    std::fprintf(stderr, "codealign: warning: sandbox falls back to weaker isolation: %s%s\n",
                 fallback_reason.c_str(), isolation_description().c_str());
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw system_error("sandbox: pipe", errno);
    read = fds[0];
    write = fds[1];
  }
};

}  // namespace

std::string isolation_description() {
  switch (settled_level) {
    case Level::full: return "user,pid,net,mount,ipc,uts namespaces; read-only root; seccomp";
    case Level::no_user_namespace: return "pid,net,mount,ipc,uts namespaces (no user namespace); read-only root; seccomp";
    case Level::none:
      return "no namespaces: rlimits, seccomp and an unprivileged uid only; the host file system is visible "
             "and daemons may outlive their job";
  }
  return "";
}

Container container_start(const ContainerSpec& spec, const std::vector<char>& seccomp_bpf) {
  settle_level();
  Level level = settled_level;
  Plan plan;
  plan.bpf = &seccomp_bpf;
  plan.mounts = level != Level::none;
  plan.user_namespace = level == Level::full;
  for (const char* dir : system_dirs) add_host_path(plan, dir);
  for (const char* file : system_files) add_host_path(plan, file);
  add_alternatives(plan);
  for (const char* device : devices) add_host_path(plan, device, true);
  if (std::string prefix = interpreter_prefix(spec.interpreter); !prefix.empty()) add_host_path(plan, prefix);
  plan.scratch_options = "size=" + std::to_string(spec.scratch_bytes) + ",mode=0755";  // jobs write only in their own directory
  plan.argv_storage.push_back(spec.interpreter);
  plan.argv_storage.insert(plan.argv_storage.end(), spec.args.begin(), spec.args.end());
  for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);

  Pipe sync, error, to_child, from_child, child_stderr;
  plan.sync_read = sync.read;
  plan.error_write = error.write;
  plan.to_child_read = to_child.read;
  plan.from_child_write = from_child.write;
  plan.stderr_write = child_stderr.write;

  pid_t pid = clone_child(clone_flags(level));
  if (pid < 0) throw system_error("sandbox: clone", errno);
  if (pid == 0) child_main(plan);

  Container c;
  c.pid = pid;
  for (int fd : {sync.read, error.write, to_child.read, from_child.write, child_stderr.write}) close(fd);
  std::string failure;
  try {
    if (level == Level::full) {
      uid_t uid = geteuid();
      gid_t gid = getegid();
      if (uid == 0) {
        // Root outside: the worker is root only inside, jobs run as uid 1000 inside; both map
        // to unprivileged outer ids, so RLIMIT_NPROC holds for them.
        int base = 200000 + 2 * spec.index;
        std::string map = "0 " + std::to_string(base) + " 1\n1000 " + std::to_string(base + 1) + " 1\n";
        write_proc_file(pid, "uid_map", map);
        write_proc_file(pid, "gid_map", map);
        c.sandbox_uid = c.sandbox_gid = 1000;
      } else {
        write_proc_file(pid, "setgroups", "deny");
        write_proc_file(pid, "uid_map", "0 " + std::to_string(uid) + " 1\n");
        write_proc_file(pid, "gid_map", "0 " + std::to_string(gid) + " 1\n");
      }
    } else if (geteuid() == 0) {
      c.sandbox_uid = c.sandbox_gid = 65534;  // nobody
    }
  } catch (const Error& e) {
    failure = e.what();
  }
  char go = 'g';
  if (failure.empty() && write(sync.write, &go, 1) != 1) failure = "sandbox: cannot release the worker";
  close(sync.write);
  char message[256] = {};
  ssize_t n = failure.empty() ? read(error.read, message, sizeof message - 1) : 0;
  close(error.read);
  if (!failure.empty() || n > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    for (int fd : {to_child.write, from_child.read, child_stderr.read}) close(fd);
    throw Error(failure.empty() ? "sandbox: worker set-up failed at " + std::string(message) : failure);
  }
  c.to_child = to_child.write;
  c.from_child = from_child.read;
  c.child_stderr = child_stderr.read;
  return c;
}

}  // namespace codealign::sandbox
