# Turns INPUT (a text file) into OUTPUT, a C++ file defining codealign::sandbox::harness_source().
file(READ ${INPUT} content)
set(delim "harness_py")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace codealign::sandbox {\nstd::string_view harness_source() {\n  static constexpr char text[] = R\"${delim}(${content})${delim}\";\n  return {text, sizeof(text) - 1};\n}\n}  // namespace codealign::sandbox\n")
