"""End-to-end tests of OBJECTID (RFC 8474) with a raw client over loopback:
MAILBOXID (CREATE, SELECT, STATUS, kept by RENAME), EMAILID (kept by COPY and
MOVE, stable across a restart of the server), THREADID NIL, SEARCH EMAILID.
Run by test_server.py (load_extension_tests)."""
import os
import re
import signal
import subprocess
import time

import test_server
from test_server import WithServer

OBJECTID = rb"[A-Za-z][A-Za-z0-9_-]{0,254}"


def restart(server):
    """Stops the server (SIGTERM) and starts it again on the same mail_dir."""
    for c in server.clients:
        c.close()
    server.clients = []
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(10 * test_server.SLOW)
    server.log.close()
    server.log = open(os.path.join(server.dir, "log"), "w+")
    server.proc = subprocess.Popen(test_server.EMULATOR + [test_server.BINARY] + server.args,
                                   stdout=server.log, stderr=subprocess.STDOUT)
    deadline = time.time() + 10 * test_server.SLOW
    while " started: " not in server.log_text() and time.time() < deadline:
        time.sleep(0.05)


class ObjectId(WithServer):
    def login(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        return c

    def test_mailboxid_rfc8474_4(self):
        c = self.login()
        c.send(b"c CAPABILITY\r\n")
        self.assertIn(b" OBJECTID", c.until_tagged(b"c")[0])
        c.send(b"1 CREATE oidfoo\r\n")
        ok = c.until_tagged(b"1")[-1]
        m = re.match(rb"1 OK \[MAILBOXID \((" + OBJECTID + rb")\)\] ", ok)
        self.assertIsNotNone(m, ok)
        foo = m.group(1)
        c.send(b"2 SELECT oidfoo\r\n")
        self.assertIn(b"* OK [MAILBOXID (" + foo + b")] Ok", c.until_tagged(b"2"))
        c.send(b"3 RENAME oidfoo oidbar\r\n")
        self.assertTrue(c.until_tagged(b"3")[-1].startswith(b"3 OK"))
        c.send(b"4 STATUS oidbar (MAILBOXID)\r\n")
        self.assertEqual(c.until_tagged(b"4"),
                         [b"* STATUS oidbar (MAILBOXID (" + foo + b"))",
                          b"4 OK STATUS completed"])

    def test_emailid_threadid_and_search_rfc8474_5_6(self):
        c = self.login()
        for s in (b"A", b"B"):
            msg = b"Subject: " + s + b"\r\n\r\nbody\r\n"
            c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
            self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"f CREATE oiddest\r\n")
        c.until_tagged(b"f")
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"5 FETCH 1:* (EMAILID THREADID)\r\n")
        lines = c.until_tagged(b"5")
        ids = {}
        for line in lines[:-1]:
            m = re.match(rb"\* (\d+) FETCH \(EMAILID \((" + OBJECTID + rb")\) THREADID NIL\)$",
                         line)
            self.assertIsNotNone(m, line)
            ids[int(m.group(1))] = m.group(2)
        self.assertEqual(sorted(ids), [1, 2])
        self.assertNotEqual(ids[1], ids[2])
        c.send(b"6 SEARCH EMAILID " + ids[2] + b"\r\n")
        self.assertEqual(c.until_tagged(b"6"), [b"* SEARCH 2", b"6 OK SEARCH completed"])
        c.send(b"7 SEARCH THREADID T1\r\n")
        self.assertEqual(c.until_tagged(b"7"), [b"* SEARCH", b"7 OK SEARCH completed"])
        c.send(b"8 MOVE 2 oiddest\r\n")
        self.assertTrue(c.until_tagged(b"8")[-1].startswith(b"8 OK"))
        c.send(b"9 COPY 1 oiddest\r\n")
        self.assertTrue(c.until_tagged(b"9")[-1].startswith(b"9 OK"))
        c.send(b"10 LOGOUT\r\n")
        c.until_tagged(b"10")
        # The same ids after a restart of the server (§5.1: immutable).
        restart(self.server)
        c = self.login()
        c.send(b"11 SELECT oiddest\r\n")
        c.until_tagged(b"11")
        c.send(b"12 FETCH 1:* (EMAILID)\r\n")
        self.assertEqual(c.until_tagged(b"12"),
                         [b"* 1 FETCH (EMAILID (" + ids[2] + b"))",
                          b"* 2 FETCH (EMAILID (" + ids[1] + b"))",
                          b"12 OK FETCH completed"])
