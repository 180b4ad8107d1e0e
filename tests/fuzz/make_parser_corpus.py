#!/usr/bin/env python3
"""Builds the parser fuzzer's seed corpus from the example client lines
("C: ...") of the RFCs in ../shared/rfc (RFC 3501 §6 and §8 and the
extensions). Each example becomes one file: a split-seed byte, then the
lines as the client sends them (CRLF ends). Rerun after adding RFCs:

    python3 tests/fuzz/make_parser_corpus.py /work/shared/rfc tests/fuzz/corpus/fuzz_parser
"""
import hashlib
import os
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
count = 0
for name in sorted(os.listdir(src)):
    if not name.endswith(".txt"):
        continue
    with open(os.path.join(src, name), encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    block = []
    for line in lines + [""]:
        m = re.match(r"^\s*C:\s?(.*)$", line)
        if m:
            block.append(m.group(1).rstrip())
            continue
        if block:
            data = "\r\n".join(block).encode("utf-8", "replace") + b"\r\n"
            for seed in (0, 0x5a):
                body = bytes([seed]) + data
                h = hashlib.sha1(body).hexdigest()[:16]
                with open(os.path.join(dst, f"{name[:-4]}-{h}"), "wb") as out:
                    out.write(body)
                count += 1
            block = []
print(f"{count} seeds written to {dst}")
