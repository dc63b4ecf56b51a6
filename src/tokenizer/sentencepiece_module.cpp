// Built as a separate shared object; see sentencepiece_module.h for why.
#include "tokenizer/sentencepiece_module.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

void write_error(const std::string& message, char* error, size_t size) {
  if (size == 0) return;
  std::strncpy(error, message.c_str(), size - 1);
  error[size - 1] = '\0';
}

sentencepiece::SentencePieceProcessor& processor_of(void* p) {
  return *static_cast<sentencepiece::SentencePieceProcessor*>(p);
}

}  // namespace

extern "C" {

void* codealign_spm_load(const char* path, char* error, size_t error_size) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  auto status = processor->Load(path);
  if (!status.ok()) {
    write_error(status.ToString(), error, error_size);
    delete processor;
    return nullptr;
  }
  return processor;
}

void codealign_spm_free(void* processor) { delete &processor_of(processor); }

int codealign_spm_piece_size(void* processor) { return processor_of(processor).GetPieceSize(); }

size_t codealign_spm_id_to_piece(void* processor, int id, char* out, size_t size) {
  const std::string& piece = processor_of(processor).IdToPiece(id);
  if (size > 0) std::memcpy(out, piece.data(), std::min(size, piece.size()));
  return piece.size();
}

int codealign_spm_piece_to_id(void* processor, const char* piece, size_t length) {
  return processor_of(processor).PieceToId(std::string(piece, length));
}

int codealign_spm_kind(void* processor, int id) {
  auto& p = processor_of(processor);
  return p.IsControl(id) ? 1 : p.IsUnknown(id) ? 2 : 0;
}

int codealign_spm_special_id(void* processor, int which) {
  auto& p = processor_of(processor);
  switch (which) {
    case 0: return p.bos_id();
    case 1: return p.eos_id();
    case 2: return p.pad_id();
    default: return p.unk_id();
  }
}

long codealign_spm_encode(void* processor, const char* text, size_t length, int* ids, size_t capacity,
                          char* error, size_t error_size) {
  std::vector<int> out;
  auto status = processor_of(processor).Encode(std::string_view(text, length), &out);
  if (!status.ok()) {
    write_error(status.ToString(), error, error_size);
    return -1;
  }
  std::memcpy(ids, out.data(), std::min(capacity, out.size()) * sizeof(int));
  return long(out.size());
}

}  // extern "C"
