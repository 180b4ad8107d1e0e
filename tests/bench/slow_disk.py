#!/usr/bin/env python3
"""Writers and a reader on a slow disk (issue 13): does one client wait for
another's flush?

    python3 tests/bench/slow_disk.py --binary build/host/platforms/posix/tinyimapd
        [--flush-ms 0,2,10] [--sessions 10] [--seconds 10] [--dovecot]
        [--io-threads N,M] [--shared]

Every fsync()/fdatasync() of the server first sleeps --flush-ms milliseconds
(tests/bench/slow_fsync.c, LD_PRELOAD; Dovecot gets it through
import_environment). --sessions writers, each logged in as its own user with
20 messages in INBOX, run `STORE 1:20 +FLAGS (\\Flagged)` and `-FLAGS` in
turn as fast as the answers come; one reader, another user, sends NOOP every
10 ms. Printed per server and flush time: acknowledged STOREs per second
(all writers together) and the reader's NOOP round trip (p50, p99, max).
With --shared the writers are all one user on one INBOX of 2 x --sessions
messages, writer i storing its own two (`STORE 2i+1:2i+2 ...`): STOREs of
many sessions on one mailbox, which share flushes (group commit,
docs/STORAGE.md). Run as root (the servers run as the unprivileged
`imapbench`, made if missing). Not a test gate: a benchmark whose figures go to
docs/BENCHMARKS.md.
"""
import argparse
import imaplib
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (Tiny, Dovecot, make_cert, BENCH_USER)

MESSAGE = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: slow disk\r\n"
           b"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\nhello\r\n")


def build_shim(work):
    so = os.path.join(work, "slow_fsync.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", so,
                    os.path.join(HERE, "slow_fsync.c"), "-ldl"], check=True)
    os.chmod(so, 0o755)
    return so


def login(port, user):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    m.login(user, bench.PASSWORD)
    return m


def fill(port, users, count=20):
    for u in users:
        m = login(port, u)
        for _ in range(count):
            m.append("INBOX", None, None, MESSAGE)
        m.logout()


def writer(port, user, stop, counts, i, shared):
    m = login(port, user)
    m.select("INBOX")
    op = "+FLAGS"
    messages = "%d:%d" % (2 * i + 1, 2 * i + 2) if shared else "1:20"
    while not stop.is_set():
        typ, _ = m.store(messages, op, "(\\Flagged)")
        if typ != "OK":
            raise RuntimeError("STORE: %s" % typ)
        counts[i] += 1
        op = "-FLAGS" if op == "+FLAGS" else "+FLAGS"
    m.logout()


def reader(port, user, stop, lat):
    m = login(port, user)
    m.select("INBOX")
    while not stop.is_set():
        t = time.perf_counter()
        m.noop()
        lat.append(time.perf_counter() - t)
        time.sleep(0.01)
    m.logout()


def writers(sessions, shared):
    return ["shared"] * sessions if shared else ["w%02d" % i for i in range(1, sessions + 1)]


def measure(port, sessions, seconds, shared):
    users = writers(sessions, shared)
    stop, counts, lat = threading.Event(), [0] * sessions, []
    threads = [threading.Thread(target=writer, args=(port, u, stop, counts, i, shared))
               for i, u in enumerate(users)]
    threads.append(threading.Thread(target=reader, args=(port, "reader", stop, lat)))
    for t in threads:
        t.start()
    time.sleep(1)  # every session logged in and selected
    c0, l0, t0 = sum(counts), len(lat), time.time()
    time.sleep(seconds)
    done, span, sample = sum(counts) - c0, time.time() - t0, sorted(lat[l0:])
    stop.set()
    for t in threads:
        t.join()
    pick = lambda q: sample[min(len(sample) - 1, int(q * len(sample)))] * 1000  # noqa: E731
    return done / span, pick(0.5), pick(0.99), sample[-1] * 1000


def run_server(server, shim, flush_ms, args):
    os.environ["LD_PRELOAD"], os.environ["SLOW_FSYNC_MS"] = shim, str(flush_ms)
    try:
        server.start()
    finally:
        del os.environ["LD_PRELOAD"]
    try:
        if args.shared:
            fill(server.port, ["shared"], 2 * args.sessions)
            fill(server.port, ["reader"])
        else:
            fill(server.port, writers(args.sessions, False) + ["reader"])
        return measure(server.port, args.sessions, args.seconds, args.shared)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--flush-ms", default="0,2,10")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--dovecot", action="store_true", help="the same load against Dovecot")
    ap.add_argument("--shared", action="store_true",
                    help="the writers are one user on one INBOX, each storing its own 2 messages")
    ap.add_argument("--work", default="/tmp/slowdisk")
    ap.add_argument("--io-threads", default="",
                    help="tinyimapd's io_threads, one run each (comma-separated; default: its own)")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    subprocess.run(["id", bench.BENCH_USER], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL) .returncode == 0 or subprocess.run(
        ["useradd", "--system", "--no-create-home", bench.BENCH_USER], check=True)
    rows = []
    for ms in [int(x) for x in args.flush_ms.split(",")]:
        threads = [t for t in args.io_threads.split(",") if t] or [None]
        kinds = [("tinyimapd" + ("" if t is None else " io_threads=" + t), None, t)
                 for t in threads] + ([("Dovecot", "optimized", None)] if args.dovecot else [])
        for name, fsync, io_threads in kinds:
            shutil.rmtree(args.work, ignore_errors=True)
            os.makedirs(os.path.join(args.work, "tiny"))
            with open(os.path.join(args.work, "passwd"), "w") as f:
                for i in range(1, args.sessions + 1):
                    f.write("w%02d:{PLAIN}%s::::::\n" % (i, bench.PASSWORD))
                f.write("shared:{PLAIN}%s::::::\n" % bench.PASSWORD)
                f.write("reader:{PLAIN}%s::::::\n" % bench.PASSWORD)
            cert, key = bench.make_cert(args.work)
            shim = build_shim(args.work)
            subprocess.run(["chown", "-R", "%s:%s" % (bench.BENCH_USER, bench.BENCH_USER),
                            args.work], check=True)
            if fsync is None:
                extra = ("--max-clients=1100", "--max-clients-per-address=1100")
                if io_threads is not None:
                    extra += ("--io-threads=" + io_threads,)
                server = bench.Tiny(binary, args.work, cert, key, extra)
            else:
                server = bench.Dovecot(args.work, cert, key, fsync)
                with open(server.conf, "a") as f:
                    f.write("import_environment = TZ LD_PRELOAD SLOW_FSYNC_MS\n")
            rate, p50, p99, worst = run_server(server, shim, ms, args)
            rows.append((name, ms, rate, p50, p99, worst))
            print("%-22s flush %2d ms: %7.1f STOREs/s; reader NOOP p50 %6.1f ms, p99 %6.1f ms,"
                  " max %6.1f ms" % rows[-1], flush=True)
    print("\n| server | flush | STOREs/s (%d writers%s) | NOOP p50 | NOOP p99 | NOOP max |"
          % (args.sessions, ", one mailbox" if args.shared else ""))
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %d ms | %.0f | %.1f ms | %.1f ms | %.1f ms |" % r)


if __name__ == "__main__":
    main()
