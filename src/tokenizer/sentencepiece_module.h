// The C interface of codealign's SentencePiece module (sentencepiece_module.cpp), a shared
// object that libsentencepiece is linked into. libsentencepiece carries its own copy of
// protobuf-lite and exports it; in a process that also has libprotobuf (libtorch brings it),
// the two collide at start-up. So the tokenizer loads the module on first use with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND), which keeps each copy to itself.
#pragma once
#include <cstddef>

extern "C" {
// All return 0 (or a handle) on failure and write a message to `error`.
void* codealign_spm_load(const char* path, char* error, size_t error_size);
void codealign_spm_free(void* processor);
int codealign_spm_piece_size(void* processor);
// Copies piece `id` into `out` (truncated to `size`); returns its full length.
size_t codealign_spm_id_to_piece(void* processor, int id, char* out, size_t size);
int codealign_spm_piece_to_id(void* processor, const char* piece, size_t length);
// 1 control, 2 unknown, 0 other.
int codealign_spm_kind(void* processor, int id);
// bos, eos, pad, unk: -1 when the model has none.
int codealign_spm_special_id(void* processor, int which);
// Encodes text; writes at most `capacity` ids and returns how many there are (-1: error).
long codealign_spm_encode(void* processor, const char* text, size_t length, int* ids, size_t capacity,
                          char* error, size_t error_size);
}
