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


@pytest.fixture(scope="module")
def trained_tokenizer(tmp_path_factory):
    """A vocabulary `codealign tokenizer train` learns from HumanEval (JSONL fields) and MBPP's
    solutions (a text file)."""
    directory = tmp_path_factory.mktemp("trained")
    with open(os.path.join(DATA_DIR, "benchmarks", "mbpp", "mbpp.jsonl")) as f:
        mbpp_code = "".join(json.loads(line)["code"] + "\n\n" for line in f)
    (directory / "mbpp.py").write_text(mbpp_code, encoding="utf-8")
    codealign("tokenizer", "train", "--vocab-size", 2000, "--out", directory / "tokenizer",
              "--field", "prompt", "--field", "canonical_solution",
              os.path.join(DATA_DIR, "benchmarks", "humaneval", "HumanEval.jsonl.gz"), directory / "mbpp.py")
    return str(directory / "tokenizer")


TRAINED_EXTRA_TEXTS = [
    "<|endoftext|>", "def f():\n    return 1<|endoftext|>def g():\n    pass<|endoftext|>",
    "a <|endoftext|> b", "<|endoftext", "  \n\n\t\t  \r\n    \n", " " * 17, "\n" * 9, "x" * 300,
    "0123456789 3.14159 1e-10 0xFF", "naïve café: 東京 — ☃ 🎉👩‍💻", "'s 'LL 're I'M",
]


def test_trained_tokenizer_equals_hf_tokenizers(trained_tokenizer):
    """HF tokenizers reads the trained tokenizer.json and gives codealign's ids and text on
    code, Unicode, whitespace runs and the special token."""
    path = os.path.join(trained_tokenizer, "tokenizer.json")
    hf = Tokenizer.from_file(path)
    assert hf.get_vocab_size() == 2000
    assert hf.token_to_id("<|endoftext|>") == 1999
    texts = TEXTS + TRAINED_EXTRA_TEXTS
    got = codealign_ids(path, texts)
    expected = [encoding.ids for encoding in hf.encode_batch(texts)]
    mismatches = [(t, ids, want) for t, ids, want in zip(texts, got, expected) if ids != want]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} texts differ; first: {mismatches[0]!r}"
    assert hf.decode_batch(got, skip_special_tokens=False) == texts


def test_trained_tokenizer_directory_loads_in_transformers(trained_tokenizer):
    """transformers reads the directory (tokenizer_config.json): eos and pad are <|endoftext|>,
    no BOS is added, and the ids are codealign's. (PreTrainedTokenizerFast is the class the
    config names, so AutoTokenizer gives the same; importing AutoTokenizer loads torch, 4 s.)"""
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast.from_pretrained(trained_tokenizer)
    assert len(hf) == 2000
    assert (hf.eos_token, hf.eos_token_id, hf.pad_token_id, hf.bos_token) == ("<|endoftext|>", 1999, 1999, None)
    texts = TEXTS[:100] + TRAINED_EXTRA_TEXTS
    assert [hf(t)["input_ids"] for t in texts] == codealign_ids(trained_tokenizer, texts)
    assert [hf.decode(hf(t)["input_ids"]) for t in texts] == texts
