#!/usr/bin/env python3
"""Seeds fuzz/corpus from the lit tests: every .mlir under test/ split at
'// -----' into one file per case (named by content hash, as libFuzzer
does), plus the examples. Run after adding tests; the corpus is committed."""
import hashlib
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"
corpus.mkdir(parents=True, exist_ok=True)
sources = sorted((root / "test").rglob("*.mlir")) + sorted((root / "examples").glob("*.mlir"))
added = 0
for source in sources:
    for case in source.read_text().split("// -----"):
        # RUN/CHECK lines are comments to the parser; drop them to keep the
        # inputs small.
        lines = [l for l in case.splitlines() if not l.lstrip().startswith("//")]
        text = "\n".join(lines).strip() + "\n"
        if len(text) < 8:
            continue
        name = hashlib.sha1(text.encode()).hexdigest()
        path = corpus / name
        if not path.exists():
            path.write_text(text)
            added += 1
print(f"fuzz corpus: {added} new inputs, {len(list(corpus.iterdir()))} in all")
