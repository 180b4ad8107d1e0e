#!/usr/bin/env python3
"""tinyimapd side by side with Dovecot: the orchestrator of tests/bench/run.sh.

run.sh installs what is needed and builds; this script does the rest in one
run on one machine: generates the data once, loads it into both servers,
starts both on loopback ports as the unprivileged user `imapbench`, measures
throughput, the 100 000-message mailbox, memory, size and flash wear, prints
the table and writes docs/BENCHMARKS.md. See docs/BENCHMARKS.md for what
each figure means and how it is measured.

    python3 tests/bench/bench.py --builds build-bench [--quick] [--no-doc]
"""
import argparse
import datetime
import json
import os
import platform
import pwd
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_USER = "imapbench"
PASSWORD = "benchpw"
BIG_USER = "big"
WEAR_USER = "wear"


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def out(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def raise_nofile():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ------------------------------------------------------------------ processes

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    """pid and all its descendants."""
    kids = children_map()
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def read_kv(path):
    vals = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                vals[k.strip()] = v.split()[0] if v.split() else "0"
    except OSError:
        pass
    return vals


def memory(pids):
    """(PSS KiB, RSS KiB, processes) summed over pids."""
    pss = rss = n = 0
    for p in pids:
        kv = read_kv("/proc/%d/smaps_rollup" % p)
        if "Pss" not in kv:
            continue
        pss += int(kv["Pss"])
        rss += int(kv["Rss"])
        n += 1
    return pss, rss, n


def io(pids):
    wb = wc = 0
    for p in pids:
        kv = read_kv("/proc/%d/io" % p)
        wb += int(kv.get("write_bytes", 0))
        wc += int(kv.get("wchar", 0))
    return wb, wc


def cpu_seconds(root_pid):
    """CPU time of a process tree, including reaped children (cutime)."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for i, p in enumerate(tree(root_pid)):
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime stime
        if i == 0:
            total += int(fields[13]) + int(fields[14])  # cutime cstime
    return total / tck


def mapped_files(pids):
    files = set()
    for p in pids:
        try:
            with open("/proc/%d/maps" % p) as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and parts[5].startswith("/"):
                        files.add(parts[5].strip())
        except OSError:
            pass
    return sorted(f for f in files if os.path.isfile(f))


# ------------------------------------------------------------------ servers

class Tiny:

    def __init__(self, binary, work, cert, key,
                 extra=("--max-clients=1100", "--max-clients-per-address=1100",
                        "--open-mailboxes=256",  # 100 users' INBOXes open at once
                        # one TLS engine per client held (docs/CONFIG.md: with all
                        # lent, an implicit-TLS connection is closed at once)
                        "--tls-sessions=1100"),
                 wrapper=()):
        self.binary, self.work = binary, work
        self.name = "tinyimapd fsync off" if wrapper else "tinyimapd"
        self.port, self.tls_port = free_port(), free_port()
        self.logf = os.path.join(work, "tinyimapd.log")
        self.args = list(wrapper) + [binary, "--user=" + BENCH_USER,
                     "--listen=127.0.0.1:%d" % self.port,
                     "--tls-listen=127.0.0.1:%d" % self.tls_port,
                     "--mail-dir=" + os.path.join(work, "tiny"),
                     "--passwd-file=" + os.path.join(work, "passwd"),
                     "--tls-cert=" + cert, "--tls-key=" + key,
                     "--plaintext-auth=yes", "--foreground"] + list(extra)
        self.proc = None

    def start(self):
        seen = os.path.getsize(self.logf) if os.path.exists(self.logf) else 0
        lf = open(self.logf, "a")
        self.proc = subprocess.Popen(self.args, stdout=lf, stderr=subprocess.STDOUT,
                                     preexec_fn=raise_nofile)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tinyimapd exited: " + open(self.logf).read()[-2000:])
            with open(self.logf) as f:
                f.seek(seen)
                started = " started: " in f.read()
            if started:
                return
            time.sleep(0.05)
        raise RuntimeError("tinyimapd did not start")

    def pids(self):
        return tree(self.proc.pid)

    def root_pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


DOVECOT_CONF = """# Written by tests/bench/bench.py: Debian's Dovecot on loopback for the benchmark.
base_dir = {work}/dovecot-run
state_dir = {work}/dovecot-state
log_path = {work}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = {fsync}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {work}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={work}/dovecot/%u
}}
# Enough processes and clients for 1000 concurrent sessions; the service
# layout is Dovecot's default ("high-security": one imap-login process per
# connection, one imap process per session).
default_process_limit = 2500
default_client_limit = 10000
default_vsz_limit = 1G
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  process_limit = 2500
}}
service imap {{
  process_limit = 2500
}}
service anvil {{
  client_limit = 10000
}}
service auth {{
  client_limit = 10000
}}
protocol imap {{
  mail_max_userip_connections = 5000
}}
"""


class Dovecot:
    def __init__(self, work, cert, key, fsync="optimized"):
        self.name = "Dovecot" if fsync == "optimized" else "Dovecot fsync=always"
        self.work, self.fsync = work, fsync
        self.port, self.tls_port = free_port(), free_port()
        self.conf = os.path.join(work, "dovecot-%s.conf" % fsync)
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(work=work, cert=cert, key=key, fsync=fsync,
                                        user=BENCH_USER, port=self.port,
                                        tls_port=self.tls_port))
        self.proc = None

    def start(self):
        for d in ("dovecot-run", "dovecot-state"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=open(
                                         os.path.join(self.work, "dovecot.stderr"), "a"),
                                     preexec_fn=raise_nofile)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited; see %s/dovecot.log" % self.work)
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                socket.create_connection(("127.0.0.1", self.tls_port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start")

    def pids(self):
        return tree(self.proc.pid)

    def root_pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                for p in reversed(tree(self.proc.pid)):
                    try:
                        os.kill(p, 9)
                    except OSError:
                        pass
                self.proc.wait()


# ------------------------------------------------------------------ a small client

class Client:
    """A blocking IMAP client for the memory and wear measurements."""

    def __init__(self, port, tls=False, timeout=60):
        s = socket.create_connection(("127.0.0.1", port), timeout)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            s = ctx.wrap_socket(s)
        self.s, self.buf, self.n = s, b"", 0
        self.received = 0
        self.line()  # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("connection closed")
            self.received += len(d)
            self.buf += d
        line, _, self.buf = self.buf.partition(b"\r\n")
        if line.endswith(b"}"):  # a literal: skip it and the rest of the line
            n = int(line[line.rindex(b"{") + 1:-1].rstrip(b"+"))
            while len(self.buf) < n:
                d = self.s.recv(65536)
                if not d:
                    raise RuntimeError("connection closed")
                self.received += len(d)
                self.buf += d
            self.buf = self.buf[n:]
            return line + b" " + self.line()
        return line

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"t%d" % self.n
        if literal is None:
            self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text.encode() + b" {%d}\r\n" % len(literal))
            while not self.line().startswith(b"+"):
                pass
            self.s.sendall(literal + b"\r\n")
        lines = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                if not ln[len(tag) + 1:].startswith(b"OK"):
                    raise RuntimeError("%s: %r" % (text, ln))
                return ln, lines
            lines.append(ln)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def warm(server):
    """One session: the server has loaded what a first login needs."""
    c = Client(server.port)
    c.cmd("LOGIN u001 %s" % PASSWORD)
    c.cmd("SELECT INBOX")
    c.cmd("LOGOUT")
    c.close()


def hold(server, n, tls, users):
    port = server.tls_port if tls else server.port
    conns = []
    for i in range(n):
        c = Client(port, tls)
        c.cmd("LOGIN u%03d %s" % (i % users + 1, PASSWORD))
        c.cmd("SELECT INBOX")
        conns.append(c)
    return conns


def settle(server, expected_max, timeout=30):
    """Waits until a server's process count falls back (Dovecot's imap processes exit)."""
    deadline = time.time() + timeout
    while time.time() < deadline and len(server.pids()) > expected_max:
        time.sleep(0.2)
    time.sleep(0.5)


# ------------------------------------------------------------------ data

def make_data(work, builds, users, per_user, big):
    gen = os.path.join(REPO, "tests", "bench", "gen_maildir.py")
    with open(os.path.join(work, "passwd"), "w") as f:
        for u in ["u%03d" % i for i in range(1, users + 1)] + [BIG_USER, WEAR_USER]:
            f.write("%s:{PLAIN}%s::::::\n" % (u, PASSWORD))
    jobs = []
    t0 = time.time()
    jobs.append(subprocess.Popen([sys.executable, gen, os.path.join(work, "dovecot", BIG_USER,
                                                                    "Maildir"), str(big), "7"]))
    batch = []
    for i in range(1, users + 1):
        batch.append(("u%03d" % i, 1000 + i))
    batch.append((WEAR_USER, 999))
    # The small mailboxes in a second process.
    script = ";".join("subprocess.run([sys.executable, %r, %r, %r, %r], check=True)" % (
        gen, os.path.join(work, "dovecot", u, "Maildir"), str(per_user), str(seed))
        for u, seed in batch)
    jobs.append(subprocess.Popen([sys.executable, "-c", "import subprocess, sys;" + script]))
    for j in jobs:
        if j.wait() != 0:
            raise RuntimeError("gen_maildir failed")
    log("generated %d + %d x %d messages in %.1f s" % (big, users + 1, per_user,
                                                         time.time() - t0))
    os.makedirs(os.path.join(work, "tiny"), exist_ok=True)
    run(["chown", "-R", "%s:%s" % (BENCH_USER, BENCH_USER), work])
    # Loading is not measured: eatmydata turns the importer's per-message fsyncs off.
    t0 = time.time()
    tiny = os.path.join(builds, "rel", "platforms", "posix", "tinyimapd")
    eat = ["eatmydata"] if shutil.which("eatmydata") else []
    procs = []
    for u in [BIG_USER, WEAR_USER] + ["u%03d" % i for i in range(1, users + 1)]:
        procs.append(subprocess.Popen(eat + [tiny, "import", "-u", u, "--maildir",
                                             os.path.join(work, "dovecot", u, "Maildir"),
                                             "--mail-dir=" + os.path.join(work, "tiny"),
                                             "--passwd-file=" + os.path.join(work, "passwd"),
                                             "--user=" + BENCH_USER],
                                            stdout=subprocess.DEVNULL))
        if len(procs) >= 2:
            if procs.pop(0).wait() != 0:
                raise RuntimeError("import failed")
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("import failed")
    run(["sync"])
    log("imported into tinyimapd in %.1f s" % (time.time() - t0))


def make_cert(work):
    cert, key = os.path.join(work, "tls", "cert.pem"), os.path.join(work, "tls", "key.pem")
    os.makedirs(os.path.dirname(cert), exist_ok=True)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30", "-subj", "/CN=localhost",
         "-keyout", key, "-out", cert], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


# ------------------------------------------------------------------ measurements

def loadgen(builds):
    return os.path.join(builds, "imap_load")


def flush_latency(work, n=50):
    """p50 and p99 (ms) of a 4 KiB write + fdatasync in the work directory: the
    disk's flush latency, which bounds every server that fsyncs."""
    path = os.path.join(work, "flush-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    lat = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return lat[n // 2], lat[min(n - 1, int(n * 0.99))]


def mix(server, builds, clients, users, duration):
    flush = flush_latency(server.work, 20)[0]
    c0 = cpu_seconds(server.root_pid())
    r = subprocess.run([loadgen(builds), "mix", "--port", str(server.port), "--users",
                        str(users), "--password", PASSWORD, "--clients", str(clients),
                        "--duration", str(duration), "--warmup", "2"],
                       check=True, capture_output=True, text=True, preexec_fn=raise_nofile)
    res = json.loads(r.stdout)
    res["server_cpu_s"] = cpu_seconds(server.root_pid()) - c0
    res["flush_ms"] = flush
    return res


LARGE_CMDS = ["SELECT INBOX", "UID FETCH 1:* (FLAGS)", "FETCH 1:* (ENVELOPE)",
              'SEARCH BODY "zymurgy"', 'SEARCH FROM "alice"']


def large(server, builds):
    args = [loadgen(builds), "script", "--port", str(server.port), "--user", BIG_USER,
            "--password", PASSWORD]
    for c in LARGE_CMDS:
        args += ["--cmd", c]
    r = subprocess.run(args, check=True, capture_output=True, text=True, timeout=1200)
    return json.loads(r.stdout)["commands"]


def block_device_of(path):
    """The stat file (/sys/dev/block/M:m/stat) of the device holding path, or None."""
    dev = os.stat(path).st_dev
    st = "/sys/dev/block/%d:%d/stat" % (os.major(dev), os.minor(dev))
    return st if os.path.exists(st) else None


def sectors_written(stat):
    with open(stat) as f:
        return int(f.read().split()[6]) * 512


def wear(server, n, work):
    """Bytes written per STORE, APPEND of 4 KiB and EXPUNGE (per-op averages).

    write_bytes: /proc/PID/io of the server's processes (page-cache pages the
    process dirtied, 4 KiB granular: what the kernel will send to the disk on
    its behalf, without file system metadata and journal). written: bytes
    passed to write(2)/pwrite(2) on files, i.e. wchar minus the bytes written
    to the client socket (calibrated with NOOPs, since send(2) is not counted
    in wchar and write(2) on a socket is). device: sectors written to the
    disk between a sync before and after the batch (includes journal and
    metadata, and anything else writing to that disk at the time)."""
    c = Client(server.port)
    c.cmd("LOGIN %s %s" % (WEAR_USER, PASSWORD))
    c.cmd("SELECT INBOX")
    msg = (b"From: wear@example.org\r\nTo: user@example.net\r\nSubject: wear\r\n"
           b"Message-ID: <wear@example.org>\r\n\r\n")
    msg += (b"x" * 70 + b"\r\n") * ((4096 - len(msg)) // 72)
    msg += b"y" * (4096 - len(msg) - 2) + b"\r\n"
    assert len(msg) == 4096
    dev = block_device_of(work)
    # How much of what the client receives shows in the server's wchar.
    pids = server.pids()
    w0, r0 = io(pids)[1], c.received
    for _ in range(50):
        c.cmd("NOOP")
    k = (io(pids)[1] - w0) / max(1, c.received - r0)
    k = 1.0 if k > 0.5 else 0.0

    res = {}

    def batch(key, fn, pre=None):
        """Runs fn n times (pre before each, unmeasured); device bytes over the batch."""
        acc = res.setdefault(key, [0, 0, 0])
        run(["sync"])
        d0 = sectors_written(dev) if dev else 0
        for i in range(n):
            if pre:
                pre(i)
            pids = server.pids()
            b0, w0 = io(pids)
            r0 = c.received
            fn(i)
            b1, w1 = io(pids)
            acc[0] += b1 - b0
            acc[1] += (w1 - w0) - k * (c.received - r0)
        run(["sync"])
        acc[2] = (sectors_written(dev) - d0) if dev else None

    batch("STORE +FLAGS (\\Flagged)", lambda i: c.cmd("STORE %d +FLAGS (\\Flagged)" % (i + 1)))
    batch("APPEND 4 KiB", lambda i: c.cmd("APPEND INBOX", msg))
    batch("EXPUNGE (1 message)", lambda i: c.cmd("EXPUNGE"),
          pre=lambda i: c.cmd("STORE %d +FLAGS.SILENT (\\Deleted)" % (i + 1)))
    c.cmd("LOGOUT")
    c.close()
    return {key: (v[0] / n, v[1] / n, None if v[2] is None else v[2] / n)
            for key, v in res.items()}


# ------------------------------------------------------------------ size

def elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path):
    o = out(["readelf", "-d", path])
    return [l.split("[")[1].split("]")[0] for l in o.splitlines() if "(NEEDED)" in l]


def lib_path(name, triplet):
    for d in ("/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return os.path.realpath(p)
    return None


def sizes(builds):
    rows = []
    for label, d, strip, triplet in [
            ("x86-64, TLS", "size-x86", "strip", "x86_64-linux-gnu"),
            ("x86-64, no TLS", "size-x86-notls", "strip", "x86_64-linux-gnu"),
            ("aarch64, TLS", "size-a64", "aarch64-linux-gnu-strip", "aarch64-linux-gnu"),
            ("aarch64, no TLS", "size-a64-notls", "aarch64-linux-gnu-strip",
             "aarch64-linux-gnu")]:
        b = os.path.join(builds, d, "platforms", "posix", "tinyimapd")
        if not os.path.exists(b) or not shutil.which(strip):
            rows.append((label, None, [], 0, None))
            continue
        s = b + ".stripped"
        run([strip, "-o", s, b])
        libs = needed(s)
        libsize = sum(os.path.getsize(lib_path(n, triplet)) for n in libs
                      if lib_path(n, triplet))
        # text + data: the file size also holds padding to the segment
        # alignment (64 KiB on aarch64).
        fields = out([strip.replace("strip", "size"), s]).splitlines()[1].split()
        rows.append((label, os.path.getsize(s), libs, libsize,
                     int(fields[0]) + int(fields[1])))
    return rows


def dovecot_package_size():
    files = []
    for pkg in ("dovecot-core", "dovecot-imapd"):
        files += [l for l in out(["dpkg", "-L", pkg]).splitlines()
                  if os.path.isfile(l) and not os.path.islink(l)]
    elfs = [f for f in files if elf(f)]
    total = sum(os.path.getsize(f) for f in files)
    return sum(os.path.getsize(f) for f in elfs), len(elfs), total


def dovecot_own(path):
    return "dovecot" in path


# ------------------------------------------------------------------ report

def fmt_num(v, digits=0):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if digits == 0:
        return "{:,}".format(int(round(v))).replace(",", " ")
    return ("%." + str(digits) + "f") % v


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    return ("%." + str(digits) + "f") % (a / b)


def passes(r):
    """Every pass with the disk's flush latency measured just before it."""
    p = r.get("passes", [(r["commands_per_s"], r["flush_ms"])])
    return " (%s)" % ", ".join("%s @%.2f" % (fmt_num(c), f) for c, f in p)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for l in f:
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    mem = read_kv("/proc/meminfo").get("MemTotal", "0")
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        deb = "?"
    fs = out(["df", "-T", "/tmp"]).splitlines()[-1].split()[1]
    return "%s, %d cores, %.1f GiB RAM, Linux %s, Debian %s, /tmp on %s" % (
        cpu, os.cpu_count(), int(mem) / 1048576, platform.release(), deb, fs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--work", default="/tmp/imapbench")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--per-user", type=int, default=200)
    ap.add_argument("--big", type=int, default=100000)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--hold", default="100,1000")
    ap.add_argument("--concurrency", default="1,10,100")
    ap.add_argument("--wear-ops", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3, help="passes of the mix (best kept)")
    ap.add_argument("--no-fsync-always", action="store_true",
                    help="skip the second Dovecot column (mail_fsync=always)")
    ap.add_argument("--stress", type=float, default=10,
                    help="seconds of tests/bench/stress_imaplib.py per server (0: skip)")
    ap.add_argument("--no-fsync-off", action="store_true",
                    help="skip the extra tinyimapd column with fsync disabled (eatmydata)")
    ap.add_argument("--quick", action="store_true",
                    help="10 000-message mailbox, 5 s runs, 100 held clients: a smoke test")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/BENCHMARKS.md")
    ap.add_argument("--command", default="bash tests/bench/run.sh")
    a = ap.parse_args()
    if a.quick:
        a.big, a.duration, a.hold, a.per_user, a.repeats = 10000, 5, "100", 100, 1
    builds = os.path.abspath(a.builds)
    holds = [int(x) for x in a.hold.split(",")]
    concs = [int(x) for x in a.concurrency.split(",")]
    raise_nofile()
    started = time.time()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    work = a.work
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    log("work dir", work)
    make_data(work, builds, a.users, a.per_user, a.big)
    cert, key = make_cert(work)
    run(["chown", "-R", "%s:%s" % (BENCH_USER, BENCH_USER), work])
    os.chmod(work, 0o755)

    tiny = Tiny(os.path.join(builds, "rel", "platforms", "posix", "tinyimapd"), work, cert, key)
    dove = Dovecot(work, cert, key)
    servers = [tiny, dove]
    R = {"mem": {}, "mix": {}, "large": {}, "wear": {}, "maps": {}}
    try:
        for s in servers:
            s.start()
        # ---- memory: each figure from a freshly started and warmed server,
        # idle and then with N logged-in clients with INBOX selected.
        for tls in (False, True):
            for n in holds:
                for s in servers:
                    s.stop()
                    s.start()
                    warm(s)
                    time.sleep(1)
                    idle = memory(s.pids())
                    log("memory: %s, %d %s clients" % (s.name, n, "TLS" if tls else "plain"))
                    conns = hold(s, n, tls, a.users)
                    time.sleep(1)
                    R["mem"][(s.name, n, tls)] = (idle, memory(s.pids()))
                    if n == holds[0] and not tls:
                        R["maps"][s.name] = mapped_files(s.pids())
                    for c in conns:
                        c.close()
        # tinyimapd's reservation grows with max_clients: idle with the default (64).
        small = Tiny(tiny.binary, work, cert, key, extra=[])
        small.start()
        warm(small)
        time.sleep(1)
        R["mem_default"] = memory(small.pids())
        small.stop()

        # ---- large mailbox: a cold pass (Dovecot builds its index), then warm passes
        for s in servers:
            log("large mailbox: %s" % s.name)
            cold = large(s, builds)
            warm_runs = [large(s, builds) for _ in range(2)]
            best = []
            for i in range(len(LARGE_CMDS)):
                best.append(min((w[i] for w in warm_runs), key=lambda r: r["total_ms"]))
            R["large"][s.name] = {"cold": cold, "warm": best}

        # ---- throughput: --repeats interleaved passes, the best one kept
        # (the machine may have other work: noise only ever slows a run down).
        R["flush"] = [flush_latency(work)]
        for rep in range(a.repeats):
            for n in concs:
                for s in servers:
                    log("mix: %s, %d clients (pass %d)" % (s.name, n, rep + 1))
                    r = mix(s, builds, n, a.users, a.duration)
                    old = R["mix"].get((s.name, n))
                    this = (r["commands_per_s"], r["flush_ms"])
                    r["passes"] = (old["passes"] if old else []) + [this]
                    if not old or r["commands_per_s"] > old["commands_per_s"]:
                        R["mix"][(s.name, n)] = r
                    else:
                        old["passes"] = r["passes"]

        R["flush"].append(flush_latency(work))

        # ---- a second, independent load tool (Python's imaplib, 8 processes)
        if a.stress > 0:
            log("stress: imaplib against both")
            R["stress_flush"] = flush_latency(work, 20)[0]
            r = subprocess.run([sys.executable, os.path.join(REPO, "tests", "bench",
                                                             "stress_imaplib.py"),
                                "--port", str(tiny.port), "--port", str(dove.port),
                                "--seconds", str(a.stress), "--password", PASSWORD,
                                "--users", str(a.users)],
                               capture_output=True, text=True, timeout=600)
            R["stress"] = [ln.replace("port %d:" % tiny.port, tiny.name + ":").replace(
                "port %d:" % dove.port, dove.name + ":") for ln in r.stdout.splitlines()]

        # ---- flash wear
        for s in servers:
            log("wear: %s" % s.name)
            R["wear"][s.name] = wear(s, a.wear_ops, work)
    finally:
        for s in servers:
            s.stop()

    if not a.no_fsync_always:
        d2 = Dovecot(work, cert, key, fsync="always")
        try:
            d2.start()
            for n in concs:
                log("mix: %s, %d clients" % (d2.name, n))
                R["mix"][(d2.name, n)] = mix(d2, builds, n, a.users, a.duration)
        finally:
            d2.stop()

    if not a.no_fsync_off and shutil.which("eatmydata"):
        t2 = Tiny(tiny.binary, work, cert, key, wrapper=["eatmydata"])
        try:
            t2.start()
            for n in concs:
                log("mix: %s, %d clients" % (t2.name, n))
                R["mix"][(t2.name, n)] = mix(t2, builds, n, a.users, a.duration)
        finally:
            t2.stop()

    R["sizes"] = sizes(builds)
    R["dovecot_pkg"] = dovecot_package_size()
    report = render(a, R, tiny, dove, holds, concs, date, time.time() - started)
    print(report)
    if not a.no_doc:
        path = os.path.join(REPO, "docs", "BENCHMARKS.md")
        doc = open(path).read() if os.path.exists(path) else ""
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin) + len(begin)] + "\n" + report + "\n" + doc[doc.index(end):]
        else:
            doc = doc + "\n" + begin + "\n" + report + "\n" + end + "\n"
        with open(path, "w") as f:
            f.write(doc)
        log("wrote", path)
    with open(os.path.join(work, "results.json"), "w") as f:
        def keys(v):
            if isinstance(v, dict):
                return {str(k): keys(x) for k, x in v.items()}
            return v
        json.dump(keys(R), f, default=str, indent=1)


def render(a, R, tiny, dove, holds, concs, date, elapsed):
    T, D = tiny.name, dove.name
    D2 = "Dovecot fsync=always"
    have2 = any(k[0] == D2 for k in R["mix"])
    o = []
    o.append("Measured %s on %s, in %.0f min, by `%s`." % (date, machine(), elapsed / 60,
                                                            a.command))
    o.append("tinyimapd %s (git %s, Release build); Dovecot %s from Debian's packages." % (
        out([tiny.binary, "--version"]).split()[-1] if tiny.binary else "?",
        out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).strip() +
        ("+changes" if out(["git", "-C", REPO, "status", "--porcelain", "--", "core",
                            "platforms", "port"]).strip() else ""),
        out(["dovecot", "--version"]).split()[0]))
    o.append("Ratios are tinyimapd / Dovecot: above 1 is better for throughput, below 1 is "
             "better for times, memory, size and bytes written.")
    o.append("")

    # Throughput
    o.append("### Throughput: the session mix, commands/s (all commands, errors excluded)")
    o.append("")
    T2 = "tinyimapd fsync off"
    have3 = any(k[0] == T2 for k in R["mix"])
    hdr = ["clients", T, D, "ratio"]
    if have2:
        hdr += [D2, "ratio"]
    if have3:
        hdr += [T2 + " (not a real setting)", "ratio to " + D]
    hdr += ["errors (t / D)", "server CPU ms per 1000 cmds (t / D)"]
    rows = []
    for n in concs:
        t, d = R["mix"][(T, n)], R["mix"][(D, n)]
        r = [str(n), fmt_num(t["commands_per_s"]) + passes(t),
             fmt_num(d["commands_per_s"]) + passes(d),
             ratio(t["commands_per_s"], d["commands_per_s"])]
        if have2:
            d2 = R["mix"][(D2, n)]
            r += [fmt_num(d2["commands_per_s"]) + passes(d2), ratio(t["commands_per_s"],
                                                       d2["commands_per_s"])]
        if have3:
            t2 = R["mix"][(T2, n)]
            r += [fmt_num(t2["commands_per_s"]) + passes(t2), ratio(t2["commands_per_s"],
                                                       d["commands_per_s"])]
        r.append("%d / %d" % (t["errors"] + t["conn_errors"], d["errors"] + d["conn_errors"]))
        r.append("%.0f / %.0f" % (1e6 * t["server_cpu_s"] / max(1, t["commands"]),
                                  1e6 * d["server_cpu_s"] / max(1, d["commands"])))
        rows.append(r)
    o.append(table(hdr, rows))
    o.append("")
    o.append("In parentheses: every pass, `commands/s @ flush ms`, the p50 of 20 × (4 KiB "
             "write + fdatasync) in the work directory just before the pass — the disk's flush "
             "latency, which bounds a server that fsyncs in its only thread. The best pass "
             "is kept.")
    o.append("")
    o.append("The disk's flush latency (p50 / p99 of 50) was %s ms before all passes and %s ms "
             "after them. Load generator CPU "
             "during the best pass at %d clients: %.0f %% of one core." % (
                 "%.2f / %.2f" % R["flush"][0], "%.2f / %.2f" % R["flush"][-1], concs[-1],
                 100 * R["mix"][(T, concs[-1])]["loadgen_cpu_s"] /
                 R["mix"][(T, concs[-1])]["seconds"]))
    o.append("")
    for n in concs:
        t, d = R["mix"][(T, n)], R["mix"][(D, n)]
        o.append("Latency per command, %d client%s (ms; n = completed in %.0f s):" % (
            n, "s" if n > 1 else "", t["seconds"]))
        o.append("")
        rows = []
        for cmd, tc in t["per_command"].items():
            dc = d["per_command"][cmd]
            if tc["n"] == 0 and dc["n"] == 0 and not tc["skipped"] and not dc["skipped"]:
                continue
            note = ""
            if tc["skipped"] or dc["skipped"]:
                note = " (skipped: not advertised by %s)" % (
                    " and ".join(x for x, c in ((T, tc), (D, dc)) if c["skipped"]))
            if tc["errors"] or dc["errors"]:
                note += " (errors t/D: %d/%d)" % (tc["errors"], dc["errors"])
            rows.append([cmd + note, fmt_num(tc["n"]), fmt_num(dc["n"]),
                         "%.3f" % tc["p50_ms"], "%.3f" % dc["p50_ms"],
                         ratio(tc["p50_ms"], dc["p50_ms"]),
                         "%.3f" % tc["p99_ms"], "%.3f" % dc["p99_ms"],
                         ratio(tc["p99_ms"], dc["p99_ms"])])
        o.append(table(["command", "n (t)", "n (D)", "p50 t", "p50 D", "ratio",
                        "p99 t", "p99 D", "ratio"], rows))
        o.append("")

    if R.get("stress"):
        o.append("Cross-check with a second load tool (`tests/bench/stress_imaplib.py`: "
                 "Python's imaplib, 8 processes, every answer checked; flush latency %.2f ms "
                 "before it):" % R["stress_flush"])
        o.append("")
        for ln in R["stress"]:
            o.append("- " + ln)
        o.append("")

    # Large mailbox
    o.append("### A mailbox of %s messages (warm: best of 2 after a first pass)" %
             fmt_num(a.big))
    o.append("")
    rows = []
    tl, dl = R["large"][T], R["large"][D]
    for i, cmd in enumerate(LARGE_CMDS):
        tw, dw = tl["warm"][i], dl["warm"][i]
        chk = ""
        if tw["fetches"] or dw["fetches"]:
            chk = "%s / %s FETCH" % (fmt_num(tw["fetches"]), fmt_num(dw["fetches"]))
        elif cmd.startswith("SEARCH"):
            chk = "%s / %s hits" % (fmt_num(tw["search_hits"]), fmt_num(dw["search_hits"]))
        if tw["status"] != "OK" or dw["status"] != "OK":
            chk += " status %s / %s" % (tw["status"], dw["status"])
        rows.append(["`%s`" % cmd, "%.1f" % tw["ttfb_ms"], "%.1f" % dw["ttfb_ms"],
                     ratio(tw["ttfb_ms"], dw["ttfb_ms"]),
                     "%.1f" % tw["total_ms"], "%.1f" % dw["total_ms"],
                     ratio(tw["total_ms"], dw["total_ms"]), chk])
    o.append(table(["command", "first byte t (ms)", "first byte D", "ratio",
                    "tagged OK t (ms)", "tagged OK D", "ratio", "answers t / D"], rows))
    o.append("")
    o.append("First pass (cold for Dovecot: it builds its index and cache; the page cache "
             "is warm for both), tagged OK in ms: " + "; ".join(
                 "`%s` %.0f / %.0f" % (cmd, tl["cold"][i]["total_ms"], dl["cold"][i]["total_ms"])
                 for i, cmd in enumerate(LARGE_CMDS)) + ".")
    o.append("")

    # Memory
    o.append("### Memory of the whole server (all processes), KiB")
    o.append("")
    rows = []
    m = R["mem"]
    t, d = m[(T, holds[0], False)][0], m[(D, holds[0], False)][0]
    rows.append(["idle (after one session)", fmt_num(t[0]), fmt_num(d[0]), ratio(t[0], d[0], 3),
                 fmt_num(t[1]), fmt_num(d[1]), ratio(t[1], d[1], 3), "%d / %d" % (t[2], d[2])])
    for tls in (False, True):
        for n in holds:
            t, d = m[(T, n, tls)][1], m[(D, n, tls)][1]
            rows.append(["%d clients, %s" % (n, "TLS" if tls else "plain"), fmt_num(t[0]),
                         fmt_num(d[0]), ratio(t[0], d[0], 3), fmt_num(t[1]), fmt_num(d[1]),
                         ratio(t[1], d[1], 3), "%d / %d" % (t[2], d[2])])
    for tls in (False, True):
        for n in holds:
            (ti, th), (di, dh) = m[(T, n, tls)], m[(D, n, tls)]
            t, d = (th[0] - ti[0]) / n, (dh[0] - di[0]) / n
            tr, dr = (th[1] - ti[1]) / n, (dh[1] - di[1]) / n
            rows.append(["**per client**, %d clients − idle, %s" % (
                n, "TLS" if tls else "plain"), "%.1f" % t, "%.1f" % d, ratio(t, d, 3),
                "%.1f" % tr, "%.1f" % dr, ratio(tr, dr, 3), ""])
    o.append(table(["state", "PSS t", "PSS D", "ratio", "RSS t", "RSS D", "ratio",
                    "processes t / D"], rows))
    o.append("")
    o.append("tinyimapd reserves its memory at start for `max_clients` (here 1100); with the "
             "default `max_clients = 64` it is %s KiB PSS idle." % fmt_num(R["mem_default"][0]))
    o.append("")

    # Size
    o.append("### Size on flash, bytes")
    o.append("")
    rows = []
    for label, size, libs, libsize, textdata in R["sizes"]:
        if size is None:
            rows.append(["tinyimapd " + label, "not built (no cross compiler or "
                         "libmbedtls-dev:arm64: tests/install_deps.sh installs them)", ""])
        else:
            rows.append(["tinyimapd " + label + ", stripped", fmt_num(size),
                         "text+data %s; NEEDED: %s (%s bytes)" % (
                             fmt_num(textdata), ", ".join(libs), fmt_num(libsize))])
    pk_elf, pk_n, pk_all = R["dovecot_pkg"]
    rows.append(["Dovecot: ELF files of dovecot-core + dovecot-imapd", fmt_num(pk_elf),
                 "%d files; all files of both packages: %s bytes" % (pk_n, fmt_num(pk_all))])
    for name in (T, D):
        files = R["maps"].get(name, [])
        own = [f for f in files if (dovecot_own(f) if name == D else "tinyimapd" in f)]
        sysl = [f for f in files if f not in own]
        rows.append(["%s: own files mapped at run time%s" % (
                         name, " (the Release binary, unstripped)" if name == T else ""),
                     fmt_num(sum(os.path.getsize(f) for f in own)),
                     "%d files; system libraries mapped: %d, %s bytes (%s)" % (
                         len(own), len(sysl), fmt_num(sum(os.path.getsize(f) for f in sysl)),
                         ", ".join(os.path.basename(f) for f in sysl))])
    x86 = R["sizes"][0][1]
    rows.append(["ratio: tinyimapd x86-64 TLS / Dovecot's mapped own files", ratio(
        x86, sum(os.path.getsize(f) for f in R["maps"].get(D, []) if dovecot_own(f)), 3), ""])
    o.append(table(["item", "bytes", "notes"], rows))
    o.append("")

    # Wear
    o.append("### Flash wear: bytes written per operation (average of %d)" % a.wear_ops)
    o.append("")
    rows = []
    for op in R["wear"][T]:
        t, d = R["wear"][T][op], R["wear"][D][op]
        rows.append([op, fmt_num(t[0]), fmt_num(d[0]), ratio(t[0], d[0]),
                     fmt_num(t[1]), fmt_num(d[1]), ratio(t[1], d[1]),
                     fmt_num(t[2]), fmt_num(d[2])])
    o.append(table(["operation", "write_bytes t", "write_bytes D", "ratio",
                    "written to files t", "written D", "ratio", "disk device t",
                    "disk device D"], rows))
    o.append("")
    return "\n".join(o)


if __name__ == "__main__":
    main()
