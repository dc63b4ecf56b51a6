#include "tokenizer/vectors.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/files.h"
#include "support/test_support.h"

namespace codealign::testing {

std::string vectors_dir() { return data_dir() + "/tokenizers/llamacpp-vectors"; }

std::vector<Vector> read_vectors(const std::string& name) {
  std::string base = vectors_dir() + "/ggml-vocab-" + name + ".gguf";
  std::string inputs = read_file(base + ".inp"), outputs = read_file(base + ".out");
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<Vector> vectors;
  for (size_t pos = 0; pos < inputs.size();) {
    size_t end = inputs.find(separator, pos);
    if (end == std::string::npos) end = inputs.size();
    vectors.push_back({inputs.substr(pos, end - pos), {}});
    pos = end + separator.size();
  }
  std::istringstream lines(outputs);
  std::string line;
  size_t index = 0;
  for (; std::getline(lines, line); ++index) {
    if (index >= vectors.size()) ADD_FAILURE() << base << ".out has more lines than texts";
    if (index >= vectors.size()) break;
    std::istringstream ids(line);
    for (tokenizer::TokenId id; ids >> id;) vectors[index].ids.push_back(id);
  }
  EXPECT_EQ(index, vectors.size()) << base << ": texts and id lines differ in number";
  return vectors;
}

namespace {
std::string show(const std::vector<tokenizer::TokenId>& ids) {
  std::string out;
  for (auto id : ids) out += " " + std::to_string(id);
  return out;
}
}  // namespace

tokenizer::EncodeOptions plain_text() {
  tokenizer::EncodeOptions options;
  options.parse_special = false;
  return options;
}

void expect_vectors(const tokenizer::Tokenizer& tok, const std::string& name) {
  auto vectors = read_vectors(name);
  ASSERT_GT(vectors.size(), 30u);
  size_t failures = 0;
  for (const Vector& v : vectors) {
    auto got = tok.encode(v.text, plain_text());
    if (got != v.ids) {
      ++failures;
      ADD_FAILURE() << name << " (" << tok.description() << ") text '" << v.text
                    << "'\n  expected" << show(v.ids) << "\n  got     " << show(got);
    }
  }
  EXPECT_EQ(failures, 0u) << "of " << vectors.size() << " vectors";
}

}  // namespace codealign::testing
