# Joins the harness's parts (PARTS_DIR/PARTS names them in order) into OUTPUT, a C++ file
# defining codealign::sandbox::harness_source().
file(STRINGS ${PARTS_DIR}/PARTS parts REGEX "^[^#]")
set(content "")
foreach(part IN LISTS parts)
  file(READ ${PARTS_DIR}/${part} text)
  string(APPEND content "${text}")
endforeach()
set(delim "harness_py")
file(WRITE ${OUTPUT} "// Generated from ${PARTS_DIR}; do not edit.\n#include <string_view>\nnamespace codealign::sandbox {\nstd::string_view harness_source() {\n  static constexpr char text[] = R\"${delim}(${content})${delim}\";\n  return {text, sizeof(text) - 1};\n}\n}  // namespace codealign::sandbox\n")
