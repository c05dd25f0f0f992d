"""The tokenizer and the prompt, exactly as the engine forms them.

SentencePiece BPE (the LLaMA kind: byte fallback, no normalisation, a
dummy-prefix space), <unk> <s> </s> = 0 1 2.  The engine renders
"USER: <image>{prompt}\\nASSISTANT:" (src/infer/prompt.c) and tokenises the
text before the image with BOS and the text after it on its own; llama.cpp
prefixes each separately tokenised fragment with a space, as
SentencePiece's dummy prefix does here.
"""
import os

import sentencepiece as spm

PROMPTS = {
    "findings": "Write the findings.",
    "impression": "Write the impression.",
}
# Detected by the engine ("radscribe" in it) and, because it holds
# "USER: " and "ASSISTANT: ", by llama.cpp as Vicuna; both render the same.
CHAT_TEMPLATE = (
    "{#- radscribe-cxr: Vicuna-style turns, image marker before the prompt -#}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'user' -%}USER: {{ m['content'] }}\n"
    "{%- elif m['role'] == 'assistant' -%}ASSISTANT: {{ m['content'] }}</s>\n"
    "{%- endif -%}{%- endfor -%}"
    "{%- if add_generation_prompt -%}ASSISTANT:{%- endif -%}")


def train(texts, prefix, vocab, seed=1):
    """Train on the cleaned training reports; writes prefix.model."""
    path = prefix + ".txt"
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t + "\n")
    spm.SentencePieceTrainer.train(
        input=path, model_prefix=prefix, vocab_size=vocab, model_type="bpe",
        byte_fallback=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True,
        split_digits=True, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0,
        hard_vocab_limit=False, num_threads=2,
        minloglevel=2)
    os.unlink(path)
    return load(prefix + ".model")


def load(path):
    return spm.SentencePieceProcessor(model_file=path)


def prompt_ids(sp, section):
    """(ids before the image, ids after it) for a section's prompt."""
    pre = [sp.bos_id()] + sp.encode("USER: ")
    post = sp.encode(PROMPTS[section] + "\nASSISTANT:")
    return pre, post


def answer_ids(sp, text):
    return sp.encode(text) + [sp.eos_id()]
