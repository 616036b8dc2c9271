"""Writes python-docs.jsonl: the 79 help topics of the Python 3.13 documentation, one {"text": ...} per line.

The topics are the text `help("if")`, `help("assignment")` etc. print: the Language Reference chapters that
Sphinx renders to plain text into Lib/pydoc_data/topics.py of every CPython release. Run it with Python 3.13.0
(the version this corpus was made from) to reproduce the file byte for byte:

    python3.13 examples/train/data/make_python_docs_corpus.py
"""
import json
import pathlib
import sys

from pydoc_data.topics import topics

if sys.version_info[:2] != (3, 13):
    print(f"note: made from Python 3.13.0; this is {sys.version.split()[0]}, so the text may differ", file=sys.stderr)

out = pathlib.Path(__file__).with_name("python-docs.jsonl")
with out.open("w", encoding="utf-8", newline="\n") as f:
    for name in sorted(topics):
        f.write(json.dumps({"text": topics[name].strip()}, ensure_ascii=False) + "\n")
print(f"{out}: {len(topics)} documents, {out.stat().st_size} bytes")
