// Where the binary finds what ships with it (the benchmarks, the modules it dlopens).
// `cmake --install` lays out PREFIX/bin/codealign, PREFIX/lib/codealign/*.so and
// PREFIX/share/codealign/data; a build-tree binary has none of these next to it and uses the
// absolute build and source tree paths compiled in.
#pragma once
#include <string>

namespace codealign {

// `relative` resolved against the directory of the running executable (/proc/self/exe) when
// that file exists there, else `build_tree_path`.
std::string installed_or_build_path(const std::string& relative, const std::string& build_tree_path);

}  // namespace codealign
