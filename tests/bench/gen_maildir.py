#!/usr/bin/env python3
"""Writes a deterministic Maildir of realistic messages (tests/bench/run.sh).

    gen_maildir.py DIR COUNT SEED [threads]

DIR gets cur/, new/, tmp/; COUNT messages go to cur/ with Dovecot-style names
(`<time>.M<n>P<seed>.bench,S=<size>,W=<vsize>:2,<flags>`), LF line ends (what
Dovecot stores) and mtime = the internal date. The same files are imported
into tinyimapd (`tinyimapd import --maildir`), so both servers hold the same
messages.

Mix: 70 % text/plain of 0.6-3 KiB, 20 % multipart/alternative (text + HTML),
10 % multipart/mixed with a base64 attachment of 4-12 KiB; about 3 KiB on
average. Every 20th sender is "Alice Example <alice@...>" (SEARCH FROM
"alice"), every 25th subject says "report", and every 200th body carries the
word "zymurgy" (SEARCH BODY "zymurgy"). Flags: 60 % \\Seen, 5 % \\Flagged,
3 % \\Answered.
With "threads" (tests/bench/sort_bench.py), two messages in three after the
tenth reply to one of the ten before them: "Re: " and its subject, In-Reply-To
and References naming it (THREAD=REFERENCES has links to follow).
"""
import base64
import os
import random
import sys

SYLLABLES = ["ka", "lo", "mi", "ne", "ta", "ri", "so", "vu", "pe", "da", "gor", "lin",
             "est", "ran", "mon", "tis", "ber", "cal", "dor", "fen"]
NAMES = ["Bob Builder", "Carol Jones", "Dave Smith", "Eve Adams", "Frank Moore",
         "Grace Hall", "Heidi Klum", "Ivan Petrov", "Judy Garcia", "Mallory Stone"]


def make_vocab(rng):
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
            for _ in range(3000)]


def make_paragraphs(rng, vocab, n=400):
    paras = []
    for _ in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(20, 90))]
        lines, line = [], ""
        for w in words:
            if len(line) + len(w) + 1 > 72:
                lines.append(line)
                line = ""
            line = (line + " " + w) if line else w
        lines.append(line + ".")
        paras.append("\n".join(lines) + "\n")
    return paras


def body_text(rng, paras, size, rare):
    out, n = [], 0
    while n < size:
        p = rng.choice(paras)
        out.append(p + "\n")
        n += len(p) + 1
    if rare:
        out.insert(len(out) // 2, "The zymurgy ledger is attached as discussed.\n\n")
    return "".join(out)


THREADS = False
SUBJECTS = {}


def message(i, seed, rng, paras, date):
    sender = ("Alice Example", "alice@example.org") if i % 20 == 0 else \
        (NAMES[i % len(NAMES)], NAMES[i % len(NAMES)].split()[0].lower() + "@example.com")
    subject = ("Quarterly report %d" % i) if i % 25 == 0 else \
        " ".join(rng.choice(paras).split()[:rng.randint(3, 8)]).rstrip(".").capitalize()
    rare = i % 200 == 7
    links = ""
    if THREADS and i > 10 and i % 3 != 0:
        parent = i - 1 - (i * 7919) % 10
        subject = "Re: " + SUBJECTS[parent]
        links = ("In-Reply-To: <%d.%d@bench.example.com>\n"
                 "References: <%d.%d@bench.example.com>\n") % (seed, parent, seed, parent)
    if THREADS:
        SUBJECTS[i] = subject
    head = ("Return-Path: <%s>\n"
            "Received: from mx.example.com (mx.example.com [192.0.2.1])\n"
            "\tby mail.example.net with ESMTPS id %08x\n"
            "\tfor <user@example.net>; %s\n"
            "Message-ID: <%d.%d@bench.example.com>\n"
            "Date: %s\n"
            "From: %s <%s>\n"
            "To: User <user@example.net>\n"
            "Subject: %s\n"
            "MIME-Version: 1.0\n") % (sender[1], rng.getrandbits(32), date, seed, i, date,
                                      sender[0], sender[1], subject) + links
    kind = rng.random()
    if kind < 0.7:
        text = body_text(rng, paras, rng.randint(600, 3000), rare)
        return head + "Content-Type: text/plain; charset=us-ascii\n\n" + text
    boundary = "=_bench_%d_%d" % (seed, i)
    if kind < 0.9:
        text = body_text(rng, paras, rng.randint(800, 2500), rare)
        html = "<html><body><p>" + text.replace("\n\n", "</p><p>") + "</p></body></html>\n"
        return (head + 'Content-Type: multipart/alternative; boundary="%s"\n\n'
                "This is a multi-part message in MIME format.\n"
                "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
                "--%s\nContent-Type: text/html; charset=us-ascii\n\n%s\n"
                "--%s--\n") % (boundary, boundary, text, boundary, html, boundary)
    text = body_text(rng, paras, rng.randint(300, 1200), rare)
    blob = base64.encodebytes(rng.randbytes(rng.randint(3000, 9000))).decode()
    return (head + 'Content-Type: multipart/mixed; boundary="%s"\n\n'
            "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
            "--%s\nContent-Type: application/octet-stream; name=\"data%d.bin\"\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"data%d.bin\"\n\n%s\n"
            "--%s--\n") % (boundary, boundary, text, boundary, i, i, blob, boundary)


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def rfc2822(t):
    import time
    tm = time.gmtime(t)
    return "%s, %d %s %d %02d:%02d:%02d +0000" % (DAYS[tm.tm_wday], tm.tm_mday,
                                                  MONTHS[tm.tm_mon - 1], tm.tm_year,
                                                  tm.tm_hour, tm.tm_min, tm.tm_sec)


def main():
    global THREADS
    root, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    THREADS = len(sys.argv) > 4 and sys.argv[4] == "threads"
    rng = random.Random(seed)
    vocab = make_vocab(random.Random(1))
    paras = make_paragraphs(random.Random(2), vocab)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    cur = os.path.join(root, "cur")
    t0 = 1767225600  # 2026-01-01
    step = max(1, (1790000000 - t0) // max(count, 1))
    for i in range(1, count + 1):
        t = t0 + i * step
        data = message(i, seed, rng, paras, rfc2822(t)).encode()
        r = rng.random()
        flags = ""
        if rng.random() < 0.03:
            flags += "R"
        if rng.random() < 0.05:
            flags += "F"
        if r < 0.6:
            flags += "S"
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (t, i, seed, len(data),
                                                  len(data) + data.count(b"\n"), flags)
        path = os.path.join(cur, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        os.close(fd)
        os.utime(path, (t, t))


if __name__ == "__main__":
    main()
