#!/usr/bin/env python3
"""SORT and THREAD (RFC 5256) on a 100 000-message mailbox, tinyimapd beside
Dovecot (docs/BENCHMARKS.md "SORT and THREAD").

    python3 tests/bench/sort_bench.py --binary build-bench/rel/platforms/posix/tinyimapd
                                      [--count 100000] [--work /tmp/sortbench]

As root (Dovecot's master; both servers run as the user `imapbench`, which
tests/bench/run.sh creates). Generates one threaded mailbox
(gen_maildir.py ... threads: two messages in three reply to an earlier one),
imports it into tinyimapd, and times on each server, in one session after
SELECT and a FETCH 1:* (FLAGS): SORT (DATE), SORT (SUBJECT), SORT (REVERSE
FROM DATE), THREAD ORDEREDSUBJECT and THREAD REFERENCES, the first run
(Dovecot: nothing cached yet) and the best of two more. tinyimapd runs with
its default work area (sort_buffer_kib = 8192) for the SORTs and with
`--sort-buffer-kib` (default 24576) for THREAD. During a fourth run of each
command on tinyimapd (not timed), a second session sends NOOPs back to back:
their round trips show that the loop kept answering. The answers of both
servers are compared.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

USER = "big"
SORTS = ["SORT (DATE) UTF-8 ALL", "SORT (SUBJECT) UTF-8 ALL", "SORT (REVERSE FROM DATE) UTF-8 ALL"]
THREADS = ["THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"]


def make_data(work, binary, count):
    maildir = os.path.join(work, "dovecot", USER, "Maildir")
    stamp = os.path.join(work, "generated-%d" % count)
    if not os.path.exists(stamp):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        t0 = time.time()
        bench.run([sys.executable, os.path.join(bench.REPO, "tests", "bench", "gen_maildir.py"),
                   maildir, str(count), "7", "threads"])
        with open(os.path.join(work, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (USER, bench.PASSWORD))
        os.makedirs(os.path.join(work, "tiny"))
        bench.run(["chown", "-R", "%s:%s" % (bench.BENCH_USER, bench.BENCH_USER), work])
        eat = ["eatmydata"] if shutil.which("eatmydata") else []
        bench.run(eat + [binary, "import", "-u", USER, "--maildir", maildir,
                         "--mail-dir=" + os.path.join(work, "tiny"),
                         "--passwd-file=" + os.path.join(work, "passwd"),
                         "--user=" + bench.BENCH_USER], stdout=subprocess.DEVNULL)
        bench.run(["sync"])
        open(stamp, "w").close()
        bench.log("generated and imported %d messages in %.0f s" % (count, time.time() - t0))


def noop_watch(port, stop, times):
    c = bench.Client(port)
    c.cmd("LOGIN %s %s" % (USER, bench.PASSWORD))
    while not stop.is_set():
        t = time.perf_counter()
        c.cmd("NOOP")
        times.append(time.perf_counter() - t)
    c.cmd("LOGOUT")
    c.close()


def timed(server, commands, watch=False):
    """{command: (first s, best of the next two s, answer bytes, NOOP round trips
    (p50, p99, max ms), NOOPs, the server's CPU s first, best of the next two)}.
    CPU seconds (all the server's processes) hold up on a loaded machine,
    where wall times do not."""
    c = bench.Client(server.port, timeout=600)
    c.cmd("LOGIN %s %s" % (USER, bench.PASSWORD))
    c.cmd("SELECT INBOX")
    c.cmd("FETCH 1:* (FLAGS)")
    out = {}
    for cmd in commands:
        runs, cpu, answer, times = [], [], b"", []
        # Three timed runs, then (watch) one more while another session sends
        # NOOPs: its thread would compete with this one for Python's lock.
        for n in range(4 if watch else 3):
            stop = threading.Event()
            w = None
            if n == 3:
                w = threading.Thread(target=noop_watch, args=(server.port, stop, times))
                w.start()
                time.sleep(0.3)
            t, t_cpu = time.perf_counter(), bench.cpu_seconds(server.root_pid())
            _, lines = c.cmd(cmd)
            if w is None:
                runs.append(time.perf_counter() - t)
                cpu.append(bench.cpu_seconds(server.root_pid()) - t_cpu)
            else:
                stop.set()
                w.join()
            answer = b"\n".join(ln for ln in lines if ln.startswith((b"* SORT", b"* THREAD")))
        times.sort()
        pct = tuple(times[min(len(times) - 1, int(q * len(times)))] * 1000 if times else 0
                    for q in (0.5, 0.99, 1.0))
        out[cmd] = (runs[0], min(runs[1:]), answer, pct, len(times), cpu[0], min(cpu[1:]))
    c.cmd("LOGOUT")
    c.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--work", default="/tmp/sortbench")
    ap.add_argument("--thread-kib", type=int, default=24576)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    make_data(a.work, binary, a.count)
    cert, key = bench.make_cert(a.work)
    bench.run(["chown", "-R", "%s:%s" % (bench.BENCH_USER, bench.BENCH_USER),
               os.path.dirname(cert)])
    results = {}
    load = open("/proc/loadavg").read().split()[0]
    for name, extra, cmds in (("tinyimapd", (), SORTS),
                              ("tinyimapd", ("--sort-buffer-kib=%d" % a.thread_kib,), THREADS)):
        s = bench.Tiny(binary, a.work, cert, key, extra=extra)
        s.start()
        try:
            results.setdefault(name, {}).update(timed(s, cmds, watch=True))
        finally:
            s.stop()
    d = bench.Dovecot(a.work, cert, key)
    d.start()
    try:
        results["Dovecot"] = timed(d, SORTS + THREADS)
    finally:
        d.stop()
    print("%d messages; load average %s before, %s after" % (
        a.count, load, open("/proc/loadavg").read().split()[0]))
    print("wall s / server CPU s: first run, best of the next two")
    print("%-36s %15s %15s %15s %15s %6s %s" % ("command", "tiny first", "tiny best",
                                                 "Dovecot 1st", "Dovecot best", "CPU x",
                                                 "NOOP p50/p99/max during"))
    for cmd in SORTS + THREADS:
        t, d_ = results["tinyimapd"][cmd], results["Dovecot"][cmd]
        same = "same answer" if t[2] == d_[2] else "ANSWERS DIFFER"
        print("%-36s %6.2f /%6.2f %6.2f /%6.2f %6.2f /%6.2f %6.2f /%6.2f %5.2fx "
              "%.1f/%.1f/%.1f ms (%d) %s" % (
                  cmd, t[0], t[5], t[1], t[6], d_[0], d_[5], d_[1], d_[6],
                  t[6] / d_[6] if d_[6] else 0, t[3][0], t[3][1], t[3][2], t[4], same))
        if t[2] != d_[2]:
            for label, ans in (("tiny", t[2]), ("dovecot", d_[2])):
                with open(os.path.join(a.work, "%s-%s.txt" % (label, cmd.split()[1].strip("("))),
                          "wb") as f:
                    f.write(ans)


if __name__ == "__main__":
    main()
