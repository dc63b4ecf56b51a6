"""codealign's tokenizers against HF `tokenizers`: the same ids for the Qwen, GPT-2 and
Llama-2 vocabularies on every HumanEval/MBPP prompt and solution and on random Unicode."""
import gzip
import json
import os
import random

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaTokenizer

from conftest import DATA_DIR, codealign

TOKENIZERS = os.path.join(DATA_DIR, "tokenizers")


def benchmark_texts():
    texts = []
    with gzip.open(os.path.join(DATA_DIR, "benchmarks", "humaneval", "HumanEval.jsonl.gz"), "rt") as f:
        for line in f:
            task = json.loads(line)
            texts += [task["prompt"], task["prompt"] + task["canonical_solution"], task["test"]]
    with open(os.path.join(DATA_DIR, "benchmarks", "mbpp", "mbpp.jsonl")) as f:
        for line in f:
            task = json.loads(line)
            texts += [task["text"], task["code"], "\n".join(task["test_list"])]
    return texts


def random_unicode(count=300, seed=1234):
    """Seeded strings mixing ASCII, code punctuation, whitespace runs, Latin, CJK, emoji
    (with ZWJ sequences), combining marks and other scripts; no surrogates."""
    rng = random.Random(seed)
    ranges = [(0x20, 0x7E), (0x09, 0x0D), (0xA0, 0x17F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
              (0x590, 0x6FF), (0x900, 0x97F), (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xACFF),
              (0x1F300, 0x1F64F), (0x200B, 0x200D), (0xFE00, 0xFE0F), (0x10000, 0x1007F)]
    texts = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.randint(1, 40)):
            low, high = rng.choice(ranges)
            pieces.append(chr(rng.randint(low, high)) * rng.choice([1, 1, 1, 2, 5]))
        texts.append("".join(pieces))
    return texts


TEXTS = benchmark_texts() + random_unicode()


def codealign_ids(tokenizer_path, texts):
    out = codealign("tokenize", "--tokenizer", tokenizer_path, "--jsonl",
                    input_text="".join(json.dumps(t) + "\n" for t in texts)).stdout.splitlines()
    assert len(out) == len(texts)
    return [[int(i) for i in line.split()] for line in out]


def expect_same_ids(tokenizer_path, hf_encode):
    got = codealign_ids(tokenizer_path, TEXTS)
    mismatches = [(text, ids, hf_encode(text)) for text, ids in zip(TEXTS, got) if ids != hf_encode(text)]
    assert not mismatches, f"{len(mismatches)} of {len(TEXTS)} texts differ; first: {mismatches[0]!r}"


def test_qwen_tokenizer_json():
    path = os.path.join(TOKENIZERS, "qwen", "tokenizer.json")
    hf = Tokenizer.from_file(path)
    expect_same_ids(path, lambda text: hf.encode(text, add_special_tokens=False).ids)


def test_gpt2_encoder_json_and_vocab_bpe():
    directory = os.path.join(TOKENIZERS, "gpt2")
    hf = Tokenizer(models.BPE.from_file(os.path.join(directory, "encoder.json"), os.path.join(directory, "vocab.bpe")))
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    expect_same_ids(os.path.join(directory, "encoder.json"), lambda text: hf.encode(text).ids)


@pytest.fixture(scope="module")
def llama2_tokenizer_json(tmp_path_factory):
    """The Llama-2 tokenizer.json that transformers converts from tokenizer.model."""
    directory = tmp_path_factory.mktemp("llama2")
    os.symlink(os.path.join(TOKENIZERS, "llama2", "tokenizer.model"), directory / "tokenizer.model")
    LlamaTokenizer.from_pretrained(directory).save_pretrained(directory / "converted")
    return str(directory / "converted" / "tokenizer.json")


def test_llama2_tokenizer_json(llama2_tokenizer_json):
    hf = Tokenizer.from_file(llama2_tokenizer_json)
    expect_same_ids(llama2_tokenizer_json, lambda text: hf.encode(text, add_special_tokens=False).ids)


def test_llama2_tokenizer_model_equals_sentencepiece():
    """tokenizer.model is read by libsentencepiece, so its reference is sentencepiece itself
    (HF's converted tokenizer.json segments some whitespace runs differently)."""
    import sentencepiece

    path = os.path.join(TOKENIZERS, "llama2", "tokenizer.model")
    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    expect_same_ids(path, sp.encode)


def test_decode_equals_hf_decode():
    """What HF encodes, codealign decodes to HF's text (the NFC-normalised input)."""
    path = os.path.join(TOKENIZERS, "qwen", "tokenizer.json")
    hf = Tokenizer.from_file(path)
    ids = [hf.encode(t, add_special_tokens=False).ids for t in TEXTS[:200] + TEXTS[-100:]]
    out = codealign("tokenize", "--tokenizer", path, "--decode", "--jsonl", "--json",
                    input_text="".join(json.dumps(row) + "\n" for row in ids))
    assert [json.loads(line)["text"] for line in out.stdout.splitlines()] == [hf.decode(row) for row in ids]


def test_qwen25_chat_prompt_equals_apply_chat_template():
    """The qwen2.5 format renders and tokenizes as transformers' apply_chat_template with the
    published Qwen2.5 template (TRL ships it verbatim as chat_templates/qwen2_5.jinja), with and
    without a system message."""
    import trl
    from transformers import PreTrainedTokenizerFast

    template_path = os.path.join(os.path.dirname(trl.__file__), "chat_templates", "qwen2_5.jinja")
    with open(template_path) as f:
        template = f.read()
    path = os.path.join(TOKENIZERS, "qwen", "tokenizer.json")
    hf = PreTrainedTokenizerFast(tokenizer_file=path)
    users = [t for t in TEXTS[:40] + TEXTS[-20:] if "<|" not in t]
    for system in [None, "You write Python."]:
        expected = []
        for user in users:
            messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
            expected.append(list(hf.apply_chat_template(messages, chat_template=template, tokenize=True,
                                                        add_generation_prompt=True, return_dict=False)))
        system_args = ["--system", system] if system else []
        got = codealign("tokenize", "--tokenizer", path, "--jsonl", "--chat", "qwen2.5", *system_args,
                        input_text="".join(json.dumps(u) + "\n" for u in users)).stdout.splitlines()
        assert [[int(i) for i in line.split()] for line in got] == expected
