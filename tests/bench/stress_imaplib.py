#!/usr/bin/env python3
"""A second, independent load tool: Python's imaplib in separate processes.

    stress_imaplib.py --port P [--port P2 ...] [--procs 8] [--seconds 20]
                      [--users 100] [--password benchpw]

Not the benchmark (imap_load.cpp is): a cross-check that both servers stay
correct under concurrent load driven by a different client implementation.
Each process logs in as its own user and loops: SELECT, FETCH of flags and a
body, STORE, SEARCH, APPEND, UID STORE \\Deleted of the appended message
(APPENDUID), EXPUNGE, NOOP; every response is checked (status OK, expected
untagged data, the message count back where it started). Prints one line per
port: sessions, commands, commands/s, errors with their first messages.
bench.py can run it after the measurements (--stress).
"""
import argparse
import imaplib
import multiprocessing
import random
import re
import time

MSG = (b"From: stress@example.org\r\nTo: user@example.net\r\nSubject: stress\r\n"
       b"Message-ID: <stress@example.org>\r\n\r\n" + b"stress body line\r\n" * 100)


def worker(port, user, password, seconds, seed, out):
    rnd = random.Random(seed)
    cmds = sessions = 0
    errors = []
    end = time.time() + seconds
    while time.time() < end:
        try:
            m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
            m.login(user, password)
            typ, data = m.select("INBOX")
            assert typ == "OK", data
            # A load run stopped between its STORE \Deleted and EXPUNGE leaves a
            # message for us to expunge: start from a clean count.
            typ, data = m.expunge()
            assert typ == "OK", data
            typ, data = m.select("INBOX")
            assert typ == "OK", data
            exists = int(data[0])
            cmds += 4
            for _ in range(5):
                n = rnd.randint(1, exists)
                typ, data = m.fetch("1:*", "(FLAGS)")
                assert typ == "OK" and len([d for d in data if d]) >= exists, "FETCH FLAGS"
                typ, data = m.fetch(str(n), "(BODY.PEEK[])")
                assert typ == "OK" and isinstance(data[0], tuple) and len(data[0][1]) > 0, \
                    "FETCH BODY"
                typ, data = m.store(str(n), "+FLAGS", "(\\Flagged)")
                assert typ == "OK", data
                typ, data = m.search(None, "FLAGGED")
                assert typ == "OK" and str(n).encode() in data[0].split(), "SEARCH FLAGGED"
                typ, data = m.store(str(n), "-FLAGS", "(\\Flagged)")
                assert typ == "OK", data
                typ, data = m.append("INBOX", None, None, MSG)
                assert typ == "OK", data
                uid = re.search(rb"APPENDUID \d+ (\d+)", data[0])
                assert uid, "no APPENDUID: %r" % data
                typ, data = m.uid("STORE", uid.group(1).decode(), "+FLAGS.SILENT", "(\\Deleted)")
                assert typ == "OK", data
                typ, data = m.expunge()
                assert typ == "OK", data
                typ, data = m.noop()
                assert typ == "OK", data
                typ, data = m.select("INBOX")
                assert typ == "OK" and int(data[0]) == exists, \
                    "count changed: %s -> %s" % (exists, data[0])
                cmds += 11
            m.logout()
            cmds += 1
            sessions += 1
        except Exception as e:  # counted, then a new session
            errors.append("%s: %s" % (type(e).__name__, e))
    out.put((sessions, cmds, errors))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--password", default="benchpw")
    a = ap.parse_args()
    for port in a.port:
        q = multiprocessing.Queue()
        ps = [multiprocessing.Process(target=worker, args=(
            port, "u%03d" % (i % a.users + 1), a.password, a.seconds, i, q))
            for i in range(a.procs)]
        t0 = time.time()
        for p in ps:
            p.start()
        res = [q.get() for _ in ps]
        for p in ps:
            p.join()
        dt = time.time() - t0
        sessions = sum(r[0] for r in res)
        cmds = sum(r[1] for r in res)
        errors = [e for r in res for e in r[2]]
        print("port %d: %d processes, %d sessions, %d commands, %.0f commands/s, %d errors%s" % (
            port, a.procs, sessions, cmds, cmds / dt, len(errors),
            (": " + "; ".join(errors[:3])) if errors else ""), flush=True)


if __name__ == "__main__":
    main()
