"""Shared pieces of the hostile-input suite (tests/hostile/run.py).

Bystander: a second, logged-in client that sends NOOP in a loop on its own
thread while an attack runs and records the slowest round trip, so a test
can assert that no client was frozen by another's input.
sigterm_seconds: how long the server takes to exit after SIGTERM.
"""
import signal
import threading
import time

import test_server


class Bystander:
    def __init__(self, server, user="alice", password="wonderland", period=0.05):
        self.client = server.raw()
        self.client.line()  # greeting
        self.client.send(b"b0 LOGIN %s %s\r\n" % (user.encode(), password.encode()))
        self.client.until_tagged(b"b0")
        self.period = period
        self.worst = 0.0
        self.rounds = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        n = 0
        try:
            while not self._stop.is_set():
                n += 1
                tag = b"n%d" % n
                start = time.monotonic()
                self.client.send(tag + b" NOOP\r\n")
                self.client.until_tagged(tag)
                self.worst = max(self.worst, time.monotonic() - start)
                self.rounds += 1
                self._stop.wait(self.period)
        except (OSError, EOFError, AssertionError) as e:  # reported by stop()
            self.error = e

    def __enter__(self):
        self.client.sock.settimeout(60 * test_server.SLOW)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop.set()
        self._thread.join(120)
        return self.worst


def sigterm_seconds(server, timeout=30.0):
    """Sends SIGTERM and returns the seconds until the process exited."""
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout)
    except Exception:
        server.proc.kill()
        server.proc.wait()
        return float("inf")
    return time.monotonic() - start


def login_raw(server, user=b"alice", password=b"wonderland"):
    c = server.raw()
    c.line()
    c.send(b"a LOGIN " + user + b" " + password + b"\r\n")
    lines = c.until_tagged(b"a")
    assert lines[-1].startswith(b"a OK"), lines
    return c

