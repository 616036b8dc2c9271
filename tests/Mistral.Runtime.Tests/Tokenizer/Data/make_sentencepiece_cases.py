#!/usr/bin/env python3
"""Makes sentencepiece-random-encode.jsonl and sentencepiece-random-decode.jsonl with real SentencePiece.

Run with Debian's python3-sentencepiece (0.1.97, the version the fixture README names):
    apt-get install python3-sentencepiece
    /usr/bin/python3 make_sentencepiece_cases.py ../../../fixtures/tokenizers/mistral/tokenizer.model
Seeds are fixed, so the files are reproducible. Encode texts mix ASCII, many scripts, emoji, astral and
private-use characters, controls, combining marks and runs of spaces/newlines; decode id lists mix random
byte tokens (often invalid UTF-8), split multi-byte characters, UNK/BOS/EOS, lone '▁' and random pieces.
"""
import json
import random
import sys

import sentencepiece as spm

sp = spm.SentencePieceProcessor(model_file=sys.argv[1])

BLOCKS = [(0x20, 0x7e)] * 6 + [
    (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
    (0x1100, 0x11ff), (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0x1f300, 0x1faff),
    (0x2000, 0x206f), (0x0, 0x1f), (0x300, 0x36f), (0x10000, 0x10ffff), (0xe000, 0xf8ff), (0xfe00, 0xfeff)]
WORDS = ["the", "  ", "\n", "\t", "\r\n", "<s>", "</s>", "[INST]", "hello", "   ", "ing", "tion", " "]


def random_char(rng):
    lo, hi = rng.choice(BLOCKS)
    while True:
        c = rng.randint(lo, hi)
        if not 0xd800 <= c <= 0xdfff:
            return chr(c)


def encode_cases(rng, count):
    for _ in range(count):
        parts = [rng.choice(WORDS) if rng.random() < 0.3 else random_char(rng)
                 for _ in range(rng.choice([1, 2, 3, 5, 10, 30, 80]))]
        text = "".join(parts)
        yield {"text": text, "ids": [1] + sp.encode(text), "add_bos": True}


def decode_cases(rng, count):
    for _ in range(count):
        ids = []
        for _ in range(rng.choice([1, 2, 3, 5, 10, 20])):
            r = rng.random()
            if r < 0.35:
                ids.append(3 + rng.randint(0, 255))
            elif r < 0.5:
                encoded = chr(rng.randint(0x80, 0x10ffff)).encode("utf-8", "surrogatepass")
                ids += [3 + b for b in encoded[:rng.randint(1, 4)]]
            elif r < 0.6:
                ids.append(rng.randint(0, 2))
            elif r < 0.7:
                ids.append(28705)
            else:
                ids.append(rng.randint(259, 31999))
        yield {"ids": ids, "text": sp.decode(ids)}


with open("sentencepiece-random-encode.jsonl", "w") as f:
    for case in encode_cases(random.Random(20261129), 400):
        f.write(json.dumps(case) + "\n")
with open("sentencepiece-random-decode.jsonl", "w") as f:
    for case in decode_cases(random.Random(7), 600):
        f.write(json.dumps(case) + "\n")
