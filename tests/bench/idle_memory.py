#!/usr/bin/env python3
"""What the server keeps resident: starts tinyimapd with the default
configuration (64 slots, STARTTLS with a generated certificate), reads
/proc/PID/smaps_rollup idle, then with 10 and 64 clients logged in with
INBOX selected, and checks that the anonymous memory never exceeds the
startup line's `M KiB reserved` plus what is not reserved (the stack, the
libraries' relocated data, the certificate and key: SLACK_KIB).

    python3 tests/bench/idle_memory.py BINARY [--prefault] [--clients 10,64]

Prints one line per stage: Pss, Rss, Anonymous (KiB), and the split of Pss
into the reserved block, [heap], the mbedTLS libraries, the binary and the
rest. Exit status 1 if a check fails. docs/BENCHMARKS.md "Memory per slot".
"""
import argparse
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SLACK_KIB = 512


def smaps_split(pid, block_kib):
    """Pss (KiB) per kind of mapping, from /proc/PID/smaps."""
    split = {"block": 0, "heap": 0, "mbedtls": 0, "mbedtls_rss": 0, "binary": 0, "other": 0}
    name, size = "", 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if m:
                name = m.group(1).strip()
                continue
            if line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Rss:") and "mbed" in name:
                split["mbedtls_rss"] += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
                # The block's mapping, or the kernel's merge of it with an
                # adjacent anonymous one (the COMPRESS engines' block).
                if name == "" and size >= block_kib - 32:
                    split["block"] += pss
                elif name == "[heap]":
                    split["heap"] += pss
                elif "mbed" in name:
                    split["mbedtls"] += pss
                elif name.endswith("/tinyimapd"):
                    split["binary"] += pss
                else:
                    split["other"] += pss
    return split


def rollup(pid):
    vals = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.split():
                vals[k.strip()] = int(v.split()[0])
    return vals


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)
    s.sendall(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\n")
    buf = b""
    while b"b OK" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("server closed: %r" % buf)
        buf += chunk
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--prefault", action="store_true")
    ap.add_argument("--clients", default="10,64")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    d = tempfile.mkdtemp(prefix="tinyimapd-mem-")
    passwd = os.path.join(d, "passwd")
    with open(passwd, "w") as f:
        f.write("alice:{PLAIN}wonderland\n")
    extra = ["--prefault=yes"] if args.prefault else []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for p in (d, passwd):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        extra.append("--user=nobody")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(d, "log"), "w+")
    # The defaults but for where: 64 slots, 16 TLS engines (STARTTLS).
    proc = subprocess.Popen([binary, "--foreground", "--plaintext-auth=yes",
                             f"--listen=127.0.0.1:{port}", f"--mail-dir={d}/mail",
                             f"--passwd-file={passwd}", "--max-clients-per-address=64"] + extra,
                            stdout=log, stderr=subprocess.STDOUT)
    failed = False
    socks = []
    try:
        reserved = None
        for _ in range(200):
            log.seek(0)
            m = re.search(r"(\d+) client slots, (\d+) KiB reserved", log.read())
            if m:
                reserved = int(m.group(2))
                break
            time.sleep(0.05)
        if reserved is None:
            log.seek(0)
            raise RuntimeError("no startup line: " + log.read())
        layout = subprocess.run([binary, "--print-layout"], capture_output=True, text=True).stdout
        block_kib = int(re.search(r"block: (\d+) bytes", layout).group(1)) // 1024
        print(f"startup line: {m.group(1)} client slots, {reserved} KiB reserved "
              f"(block {block_kib} KiB){' prefault' if args.prefault else ''}")
        stages = [0] + [int(n) for n in args.clients.split(",") if n]
        for n in stages:
            while len(socks) < n:
                socks.append(connect(port))
            time.sleep(1)
            r = rollup(proc.pid)
            split = smaps_split(proc.pid, block_kib)
            ok = r["Anonymous"] <= reserved + SLACK_KIB
            failed |= not ok
            # The libraries' Pss depends on who else maps them (other
            # tinyimapd processes): with them counted whole, as when the
            # server is their only user.
            alone = r["Pss"] - split["mbedtls"] + split["mbedtls_rss"]
            print(f"{n:3d} clients: Pss {r['Pss']} (mbedTLS unshared: {alone})"
                  f" Rss {r['Rss']} Anonymous {r['Anonymous']} KiB"
                  f" (block {split['block']}, heap {split['heap']}, mbedTLS {split['mbedtls']},"
                  f" binary {split['binary']}, other {split['other']})"
                  f"{'' if ok else '  FAIL: Anonymous > reserved + %d' % SLACK_KIB}")
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
