#include "common/install_paths.h"

#include <limits.h>
#include <unistd.h>

namespace codealign {

std::string installed_or_build_path(const std::string& relative, const std::string& build_tree_path) {
  char exe[PATH_MAX];
  ssize_t size = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (size <= 0) return build_tree_path;
  std::string dir(exe, static_cast<size_t>(size));
  dir.erase(dir.rfind('/') + 1);
  std::string installed = dir + relative;
  // Plain access(), not std::filesystem: this also runs inside the model module, next to
  // libtorch's exported copies of std::filesystem (CMakeLists.txt's link options).
  return access(installed.c_str(), F_OK) == 0 ? installed : build_tree_path;
}

}  // namespace codealign
