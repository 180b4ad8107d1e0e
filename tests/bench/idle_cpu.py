#!/usr/bin/env python3
"""What idling clients cost: starts tinyimapd, puts N clients in IDLE on
INBOX, and reports the server's CPU time over a quiet interval and its RSS.

    python3 tests/bench/idle_cpu.py BINARY [N=500] [SECONDS=30]

Run as root (the server drops to nobody) or as an ordinary user.
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    d = tempfile.mkdtemp(prefix="tinyimapd-idle-")
    passwd = os.path.join(d, "passwd")
    with open(passwd, "w") as f:
        f.write("alice:{PLAIN}wonderland\n")
    extra = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for p in (d, passwd):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        extra = ["--user=nobody"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--foreground", "--plaintext-auth=yes", "--log-level=warning",
                             f"--listen=127.0.0.1:{port}", f"--mail-dir={d}/mail",
                             f"--passwd-file={passwd}", f"--max-clients={n + 10}",
                             f"--max-clients-per-address={n + 10}"] + extra)
    try:
        time.sleep(1)
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.recv(4096)
            s.sendall(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\nc IDLE\r\n")
            buf = b""
            while b"+ idling" not in buf:
                buf += s.recv(65536)
            socks.append(s)

        def cpu():
            f = open(f"/proc/{proc.pid}/stat").read().split(")")[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

        t0 = cpu()
        time.sleep(seconds)
        used = cpu() - t0
        rss = [l for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmRSS")][0].split()[1]
        print(f"{n} idling clients: server CPU {used:.3f} s in {seconds} s "
              f"({used / seconds * 100:.2f} % of one core); VmRSS {rss} KiB")
        for s in socks:
            s.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
