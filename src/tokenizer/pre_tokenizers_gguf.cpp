// llama.cpp names a BPE vocabulary's pre-tokenizer (tokenizer.ggml.pre); these are the
// pipelines of the HF tokenizer.json each name was made from, so that ids match HF's.
#include "common/error.h"
#include "tokenizer/gguf_pipelines.h"

namespace codealign::tokenizer {
namespace {

const char* const qwen2_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const llama3_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const cjk_class = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// DeepSeek LLM's letters: Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee and other
// cased scripts, listed by code point ranges (they must not be NFC-normalised).
const char* const deepseek_llm_letters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A})"
    R"(\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556})"
    R"(\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF})"
    R"(\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D})"
    R"(\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3})"
    R"(\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})"
    R"(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D})"
    R"(\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184})"
    R"(\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D})"
    R"(\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF})"
    R"(\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F})"
    R"(\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})"
    R"(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
const char* const deepseek_llm_punctuation =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";

void isolate(GgufPipeline& p, const char* pattern) {
  p.pre_tokenizers.push_back(make_split(pattern, SplitBehavior::isolated, false));
}

}  // namespace

GgufPipeline gguf_pipeline(const std::string& pre, const std::string& path) {
  GgufPipeline p;
  if (pre == "gpt-2" || pre == "jina-v2-code") {
    isolate(p, gpt2_pattern);
  } else if (pre == "mpt" || pre == "olmo") {  // GPT-NeoX's tokenizer.json: NFC, then ByteLevel
    p.normalizers.push_back(make_nfc());
    isolate(p, gpt2_pattern);
  } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    isolate(p, llama3_pattern);
    p.ignore_merges = true;
  } else if (pre == "dbrx" || pre == "smaug-bpe") {
    isolate(p, llama3_pattern);
  } else if (pre == "qwen2" || pre == "stablelm2") {
    p.normalizers.push_back(make_nfc());
    isolate(p, qwen2_pattern);
  } else if (pre == "starcoder" || pre == "refact" || pre == "command-r") {
    p.pre_tokenizers.push_back(make_digits(true));
    isolate(p, gpt2_pattern);
  } else if (pre == "deepseek-coder") {
    for (const char* pattern : {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", cjk_class}) isolate(p, pattern);
    p.pre_tokenizers.push_back(make_digits(true));
  } else if (pre == "deepseek-llm") {
    for (const char* pattern : {R"([\r\n])", deepseek_llm_letters, deepseek_llm_punctuation,
                                R"(\s+$)", cjk_class})
      isolate(p, pattern);
    p.pre_tokenizers.push_back(make_digits(true));
  } else {
    throw Error("tokenizer: GGUF '" + path + "': pre-tokenizer '" + pre +
                "' is not supported (supported: gpt-2, mpt, olmo, jina-v2-code, llama3, llama-v3, "
                "llama-bpe, dbrx, smaug-bpe, qwen2, stablelm2, starcoder, refact, command-r, "
                "deepseek-coder, deepseek-llm)");
  }
  return p;
}

}  // namespace codealign::tokenizer
