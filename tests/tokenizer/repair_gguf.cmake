# Runs tools/repair_gguf.py over the shared llama.cpp vocabularies into OUT.
# CODEALIGN_DATA_DIR in the environment wins over DATA_DIR, as for the tests.
if(DEFINED ENV{CODEALIGN_DATA_DIR})
  set(DATA_DIR $ENV{CODEALIGN_DATA_DIR})
endif()
set(VECTORS ${DATA_DIR}/tokenizers/llamacpp-vectors)
file(MAKE_DIRECTORY ${OUT})
foreach(name gpt-2 deepseek-coder deepseek-llm starcoder llama-spm)
  set(extra)
  if(name STREQUAL "llama-spm")
    set(extra --scores-from ${DATA_DIR}/tokenizers/llama2/tokenizer.model)
  endif()
  execute_process(COMMAND /usr/bin/python3 ${TOOL} ${VECTORS}/ggml-vocab-${name}.gguf ${OUT}/${name}.gguf ${extra}
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "repair_gguf.py failed on ${name}")
  endif()
endforeach()
