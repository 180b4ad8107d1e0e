#!/usr/bin/env python3
"""Writes core/mime/unicase_table.inc, the per-code-point table of RFC 5051's
i;unicode-casemap collation (core/mime/unicase.h), from UnicodeData.txt.

Rerun after a Unicode update (Debian: `apt-get install unicode-data`):
    python3 core/mime/gen_unicase.py [/usr/share/unicode/UnicodeData.txt] \
        > core/mime/unicase_table.inc
and commit the result: builds never need the Unicode data installed.

For every code point, RFC 5051 §2 step (2):
  (a) the titlecase property (UnicodeData.txt field 14, a single code point;
      an empty field means no mapping), then
  (b) the decomposition property of any type (field 5, the <tag> dropped),
      applied recursively to each resulting code point ("effectively NFKD"),
      WITHOUT titlecasing what the decomposition yields (the RFC applies (a)
      once, to the input code point).
The result is stored only when it differs from the code point itself.
Hangul syllables (U+AC00..U+D7A3) have no decomposition field in
UnicodeData.txt; unicase.cpp decomposes them algorithmically (Unicode §3.12),
and this script does the same should a decomposition ever yield one.

Layout (all sorted, looked up by unicase.cpp):
  kRanges   uint64 each: first code point << 35 | count << 23 | (stride-1) << 22
            | (delta + 2^21): code points first, first+stride, ... (count of
            them) map to the single code point cp + delta. Spans never overlap.
  kRangeAt  uint16 per 256-code-point block (cp >> 8): the first range whose
            span ends in or after the block (so a lookup scans one or two).
  kBlock    uint16 per block, plus one: the first entry of the block in
            kEntry. No code point in a block >= kBlocks is mapped.
  kEntry    uint16 per entry: the code point's low byte (sorted within a
            block) | the length in bytes of its UTF-8 sequence << 8.
  kPoolAt   uint16 per POOL_STEP entries: where the sequence of entry
            i * POOL_STEP starts in kPool; the following entries' sequences
            follow it (their lengths added up).
  kPool     the mapped sequences, UTF-8, in entry order.
"""
import os
import sys

HANGUL_S, HANGUL_COUNT = 0xAC00, 11172
HANGUL_L, HANGUL_V, HANGUL_T = 0x1100, 0x1161, 0x11A7
MAX_COUNT = (1 << 12) - 1
DELTA_BIAS = 1 << 21
POOL_STEP = 16


def read_data(path):
    title, decomp = {}, {}
    with open(path, encoding="ascii") as f:
        for line in f:
            field = line.rstrip("\n").split(";")
            cp = int(field[0], 16)
            if field[5]:
                parts = field[5].split()
                if parts[0].startswith("<"):
                    parts = parts[1:]
                decomp[cp] = [int(x, 16) for x in parts]
            if field[14]:
                title[cp] = int(field[14], 16)
            elif field[12]:
                # UAX #44 reads an empty titlecase as "same as uppercase"; no
                # such line exists up to Unicode 15.0, so the question of
                # which reading RFC 5051 means has not arisen. Decide it then.
                sys.exit(f"U+{cp:04X}: uppercase mapping without a titlecase one")
    return title, decomp


def hangul(cp):
    s = cp - HANGUL_S
    if not 0 <= s < HANGUL_COUNT:
        return None
    t = HANGUL_T + s % 28
    out = [HANGUL_L + s // 588, HANGUL_V + (s % 588) // 28]
    return out + [t] if t != HANGUL_T else out


def full_decomposition(cp, decomp):
    h = hangul(cp)
    if h:
        return h
    if cp not in decomp:
        return [cp]
    return [y for x in decomp[cp] for y in full_decomposition(x, decomp)]


def mappings(title, decomp):
    out = {}
    for cp in sorted(set(title) | set(decomp)):
        seq = full_decomposition(title.get(cp, cp), decomp)
        if seq != [cp]:
            out[cp] = seq
    return out


def run_length(cp, stride, singles):
    delta = singles[cp] - cp
    n, c = 1, cp + stride
    while n < MAX_COUNT and singles.get(c) is not None and singles[c] - c == delta:
        n, c = n + 1, c + stride
    return n


def split_ranges(mapped):
    """Runs of single-code-point results with one delta become ranges; the
    rest become entries."""
    singles = {cp: seq[0] for cp, seq in mapped.items() if len(seq) == 1}
    ranges, taken, span_end = [], set(), -1
    for cp in sorted(singles):
        if cp <= span_end:  # inside an earlier range's span: spans never overlap
            continue
        count, stride = max((run_length(cp, s, singles), -s) for s in (1, 2))
        stride = -stride
        if count < 2:
            continue
        ranges.append((cp, count, stride, singles[cp] - cp))
        taken.update(cp + i * stride for i in range(count))
        span_end = cp + (count - 1) * stride
    entries = {cp: seq for cp, seq in mapped.items() if cp not in taken}
    return ranges, entries


def utf8(seq):
    return "".join(chr(c) for c in seq).encode("utf-8")


def rows(values, fmt, per_line):
    items = [fmt(v) for v in values]
    return "\n".join("    " + ", ".join(items[i:i + per_line]) + ","
                     for i in range(0, len(items), per_line))


def unicode_version(path):
    age = os.path.join(os.path.dirname(path), "DerivedAge.txt")
    try:
        with open(age, encoding="utf-8") as f:
            first = f.readline()
        return first.strip("# \n").replace("DerivedAge-", "").replace(".txt", "")
    except OSError:
        return "unknown"


def emit(path, ranges, entries):
    keys = sorted(entries)
    span_ends = [cp + (n - 1) * s for cp, n, s, _ in ranges]
    blocks = (max(keys[-1], max(span_ends)) >> 8) + 1
    range_at = [next((i for i, e in enumerate(span_ends) if e >= b << 8), len(ranges))
                for b in range(blocks)]
    block, entry, pool_at, pool = [0] * (blocks + 1), [], [], bytearray()
    for i, cp in enumerate(keys):
        block[(cp >> 8) + 1] += 1
        seq = utf8(entries[cp])
        assert len(seq) < 256
        entry.append(cp & 0xFF | len(seq) << 8)
        if i % POOL_STEP == 0:
            pool_at.append(len(pool))
        pool += seq
    for i in range(blocks):
        block[i + 1] += block[i]
    assert len(pool) < 1 << 16 and len(keys) < 1 << 16
    packed = [cp << 35 | n << 23 | (s - 1) << 22 | (d + DELTA_BIAS) for cp, n, s, d in ranges]
    max_bytes = max(max(len(utf8(s)) for s in entries.values()), 9)
    p = print
    p("// GENERATED by core/mime/gen_unicase.py from UnicodeData.txt "
      f"{unicode_version(path)} -- do not edit;")
    p("// rerun the script instead (see its docstring for the layout). Exempt from")
    p("// the 1000-line limit. Included by core/mime/unicase.cpp only.")
    p(f"// {len(ranges)} ranges, {len(keys)} entries, {len(pool)} pool bytes.")
    p("// clang-format off")
    p(f"constexpr std::size_t kMaxMappedBytes = {max_bytes};")
    p(f"constexpr std::uint32_t kBlocks = {blocks};")
    p("constexpr std::uint64_t kRanges[] = {")
    p(rows(packed, lambda v: f"0x{v:014x}", 5))
    p("};")
    p("constexpr std::uint16_t kRangeAt[] = {")
    p(rows(range_at, str, 16))
    p("};")
    p("constexpr std::uint16_t kBlock[] = {")
    p(rows(block, str, 16))
    p("};")
    p("constexpr std::uint16_t kEntry[] = {")
    p(rows(entry, lambda v: f"0x{v:04x}", 12))
    p("};")
    p(f"constexpr std::size_t kPoolStep = {POOL_STEP};")
    p("constexpr std::uint16_t kPoolAt[] = {")
    p(rows(pool_at, str, 16))
    p("};")
    p("constexpr unsigned char kPool[] = {")
    p(rows(pool, lambda v: f"0x{v:02x}", 16))
    p("};")
    p("// clang-format on")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode/UnicodeData.txt"
    title, decomp = read_data(path)
    ranges, entries = split_ranges(mappings(title, decomp))
    emit(path, ranges, entries)


if __name__ == "__main__":
    main()
