#!/usr/bin/env python3
"""End-to-end tests of the mail tools of the tinyimapd binary (docs/TOOLS.md):
deliver, import, export, check.

Usage: test_tools.py --binary PATH [--emulator "qemu-aarch64 -L /usr/aarch64-linux-gnu"]

Each test works in its own temporary mail_dir with its own passwd file and
checks the results through the tools themselves (export) and, where the
store's on-disk format is the point (CRLF storage, UIDs kept by a rebuild),
through the files documented in docs/STORAGE.md.
"""
import argparse
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

BINARY = None
EMULATOR = []
SLOW = 1.0
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_NOUSER, EX_TEMPFAIL = 64, 65, 66, 67, 75

STATE_HEADERS = (b"status:", b"x-status:", b"x-keywords:", b"x-uid:", b"x-imap:",
                 b"x-imapbase:")
MBOX_FLAGS = {"R": "S"}


def parse_mbox(data):
    """A reference mboxrd reader, as docs/TOOLS.md describes the format:
    returns [(message bytes with LF, set of flags, keywords)], flags as
    Maildir letters (S R F D T), state headers removed, ">From " unquoted."""
    out = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cur = None
    prev_blank = True
    for line in lines:
        if line.startswith(b"From ") and prev_blank and (cur is None or re.search(
                rb" \d\d:\d\d:\d\d \d{4}$", line)):
            if cur is not None:
                out.append(cur)
            cur = {"lines": [], "flags": set(), "kw": [], "header": True, "skip": False}
            prev_blank = False
            continue
        prev_blank = line == b""
        if cur["header"]:
            if cur["skip"] and line[:1] in (b" ", b"\t"):
                continue
            cur["skip"] = False
            if line == b"":
                cur["header"] = False
            elif line.lower().startswith(STATE_HEADERS):
                cur["skip"] = True
                name, _, value = line.partition(b":")
                name = name.lower()
                if name == b"status" and b"R" in value:
                    cur["flags"].add("S")
                elif name == b"x-status":
                    for c, f in ((b"A", "R"), (b"F", "F"), (b"T", "D"), (b"D", "T")):
                        if c in value:
                            cur["flags"].add(f)
                elif name == b"x-keywords":
                    cur["kw"] = value.split()
                continue
        m = re.match(rb"^(>+)From ", line)
        if m:
            line = line[1:]
        cur["lines"].append(line)
    if cur is not None:
        out.append(cur)
    result = []
    for c in out:
        ls = c["lines"]
        if ls and ls[-1] == b"" and not c["header"]:
            ls = ls[:-1]  # the blank line before the next "From " (or the end)
        result.append((b"\n".join(ls) + b"\n", frozenset(c["flags"]),
                       tuple(sorted(k.decode() for k in c["kw"]))))
    return result


class Tools:
    """A temporary mail_dir and passwd file, and the tools run against them."""

    def __init__(self, users=("alice", "bob")):
        self.dir = tempfile.mkdtemp(prefix="tinyimapd-tools-")
        self.mail = os.path.join(self.dir, "mail")
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.write("# test users\n")
            for u in users:
                f.write(f"{u}:{{PLAIN}}secret:1000:1000::/home/{u}::\n")
        self.config = os.path.join(self.dir, "tinyimapd.conf")
        with open(self.config, "w") as f:
            f.write(f"mail_dir = {self.mail}\npasswd_file = {self.passwd}\n")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args, input=b"", use_config=False):
        opts = ["--config", self.config] if use_config else [
            f"--mail-dir={self.mail}", f"--passwd-file={self.passwd}"]
        return subprocess.run(EMULATOR + [BINARY] + list(args) + opts, input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120 * SLOW)

    def deliver(self, user, message, *extra):
        return self.run("deliver", "-u", user, *extra, input=message)

    def export_mbox(self, user, mailbox="INBOX"):
        path = os.path.join(self.dir, f"export-{user}-{time.monotonic_ns()}.mbox")
        r = self.run("export", "-u", user, "-m", mailbox, "--mbox", path)
        if r.returncode != 0:
            raise AssertionError(f"export failed {r.returncode}: {r.stderr!r}")
        with open(path, "rb") as f:
            return f.read()

    def mailbox_dir(self, user, encoded):
        return os.path.join(self.mail, user, encoded)


def index_uids(mailbox_dir):
    """UIDs of the live records of m.index (docs/STORAGE.md "m.index")."""
    with open(os.path.join(mailbox_dir, "m.index"), "rb") as f:
        data = f.read()
    best = None
    for slot in (0, 96):
        magic, _v, rs, gen = struct.unpack_from("<IHHQ", data, slot)
        if magic == 0x584D4954 and (best is None or gen > best[0]):
            best = (gen, slot, rs)
    count = struct.unpack_from("<I", data, best[1] + 32)[0]
    highest = struct.unpack_from("<Q", data, best[1] + 24)[0]
    rs = best[2]  # 96 (index version 2) or 80 (version 1); the slots end it
    uids = []
    for i in range(count):
        rec = 8192 + rs * i
        uid = struct.unpack_from("<I", data, rec)[0]
        state = None
        for s in (rec + rs - 48, rec + rs - 24):
            modseq = struct.unpack_from("<Q", data, s)[0]
            if modseq <= highest and (state is None or modseq > state[0]):
                state = (modseq, data[s + 17])
        if state is None or not state[1] & 1:
            uids.append(uid)
    return uids


def index_version(mailbox_dir):
    with open(os.path.join(mailbox_dir, "m.index"), "rb") as f:
        return struct.unpack_from("<H", f.read(6), 4)[0]


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def downgrade_index(path):
    """Rewrites a version 2 m.index as version 1 wrote it (96-byte records
    become 80; the state slots' MAILBOXID becomes reserved): what a store
    made by an older tinyimapd looks like. No redo record is pending after
    a tool's clean exit, so the redo areas are left as they are (stale)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    for slot in (0, 96):
        if struct.unpack_from("<I", data, slot)[0] != 0x584D4954:
            continue
        struct.pack_into("<HH", data, slot + 4, 1, 80)
        data[slot + 84:slot + 92] = bytes(8)
        struct.pack_into("<I", data, slot + 92, crc32c(bytes(data[slot:slot + 92])))
    out = bytearray(data[:8192])
    for rec in range(8192, len(data) - 95, 96):
        fixed = bytearray(data[rec:rec + 26]) + bytes(2)
        fixed += struct.pack("<I", crc32c(bytes(fixed)))
        out += fixed + data[rec + 48:rec + 96]
    with open(path, "wb") as f:
        f.write(out)


def state_values(check_output, name):
    m = re.search(re.escape(name) + rb": (\d+) messages, UIDVALIDITY (\d+), UIDNEXT (\d+)",
                  check_output)
    assert m, check_output
    return tuple(int(x) for x in m.groups())


MESSAGE = (b"From sender@example.org Sat Jan  3 01:05:34 1996\n"
           b"From: Sender <sender@example.org>\n"
           b"To: alice@example.net\n"
           b"Subject: hello\n"
           b"\n"
           b"Line one.\n"
           b"From the body, a line that needs quoting in mbox.\n"
           b"8-bit: \xc3\xa4\xc3\xb6\xc3\xbc\n")
MESSAGE_STORED = MESSAGE.split(b"\n", 1)[1]  # the envelope line is dropped


class ToolTest(unittest.TestCase):
    def setUp(self):
        self.t = Tools()

    def tearDown(self):
        self.t.cleanup()


class DeliverTest(ToolTest):
    def test_deliver_to_inbox_lf_input(self):
        r = self.t.deliver("alice", MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Stored with CRLF line ends, exactly (docs/STORAGE.md m.data).
        with open(os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data"), "rb") as f:
            data = f.read()
        self.assertIn(MESSAGE_STORED.replace(b"\n", b"\r\n"), data)
        self.assertNotIn(b"Jan  3 01:05:34 1996", data)
        msgs = parse_mbox(self.t.export_mbox("alice"))
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], MESSAGE_STORED)
        self.assertEqual(msgs[0][1], frozenset())

    def test_deliver_crlf_input_and_config_file(self):
        crlf = MESSAGE_STORED.replace(b"\n", b"\r\n")
        r = self.t.run("deliver", "-u", "alice", input=crlf, use_config=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data"), "rb") as f:
            data = f.read()
        self.assertIn(crlf, data)
        self.assertNotIn(b"\r\r", data)

    def test_deliver_create_and_fallback(self):
        r = self.t.deliver("alice", b"Subject: a\n\nto lists/dev\n", "-m", "Lists/dev",
                           "--create")
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = parse_mbox(self.t.export_mbox("alice", "Lists/dev"))
        self.assertEqual([m[0] for m in msgs], [b"Subject: a\n\nto lists/dev\n"])
        # Without --create a missing mailbox falls back to INBOX (Dovecot's LDA).
        r = self.t.deliver("alice", b"Subject: b\n\nfallback\n", "-m", "Missing")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"INBOX", r.stderr)
        msgs = parse_mbox(self.t.export_mbox("alice"))
        self.assertEqual([m[0] for m in msgs], [b"Subject: b\n\nfallback\n"])
        # An existing mailbox without --create.
        r = self.t.deliver("alice", b"Subject: c\n\nsecond\n", "-m", "Lists/dev")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(parse_mbox(self.t.export_mbox("alice", "Lists/dev"))), 2)

    def test_exit_codes(self):
        self.assertEqual(self.t.deliver("nobody-here", MESSAGE).returncode, EX_NOUSER)
        self.assertEqual(self.t.run("deliver", input=MESSAGE).returncode, EX_USAGE)
        self.assertEqual(self.t.deliver("alice", MESSAGE, "--frobnicate").returncode, EX_USAGE)
        self.assertEqual(self.t.deliver("alice", MESSAGE, "-m").returncode, EX_USAGE)
        self.assertEqual(self.t.deliver("alice", MESSAGE, "-m", "a//b").returncode, EX_USAGE)
        self.assertEqual(self.t.deliver("alice", b"").returncode, EX_DATAERR)
        self.assertEqual(self.t.deliver("../etc", MESSAGE).returncode, EX_NOUSER)
        r = self.t.run("deliver", "-u", "alice", "--config", "/nonexistent/x.conf",
                       input=MESSAGE)
        self.assertEqual(r.returncode, EX_NOINPUT)
        # Nothing was delivered by the failures.
        self.assertEqual(parse_mbox(self.t.export_mbox("alice")), [])

    def test_large_message_streams(self):
        body = b"".join(b"line %07d " % i + b"x" * 90 + b"\n" for i in range(40000))
        big = b"Subject: big\n\n" + body  # about 4 MiB, many 64 KiB chunks
        r = self.t.deliver("alice", big)
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = parse_mbox(self.t.export_mbox("alice"))
        self.assertEqual(len(msgs), 1)
        self.assertTrue(msgs[0][0] == big, "the 4 MiB message differs after export")

    def lock_inbox(self):
        """Holds the mailbox lock (a POSIX lock conflicts with the store's OFD lock)."""
        import fcntl
        self.assertEqual(self.t.deliver("alice", b"Subject: first\n\nx\n").returncode, 0)
        f = open(os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data"), "r+b")
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return f

    def test_locked_mailbox_is_retried(self):
        f = self.lock_inbox()
        proc = subprocess.Popen(EMULATOR + [BINARY, "deliver", "-u", "alice",
                                            f"--mail-dir={self.t.mail}",
                                            f"--passwd-file={self.t.passwd}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdin.write(b"Subject: waited\n\nx\n")
        proc.stdin.close()
        time.sleep(1.5)
        self.assertIsNone(proc.poll(), "deliver must wait while the mailbox is locked")
        f.close()  # releases the lock
        self.assertEqual(proc.wait(timeout=30 * SLOW), 0, proc.stderr.read())
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(len(parse_mbox(self.t.export_mbox("alice"))), 2)

    def test_locked_too_long_is_tempfail(self):
        f = self.lock_inbox()
        try:
            start = time.monotonic()
            r = self.t.deliver("alice", b"Subject: later\n\nx\n")
            self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
            self.assertGreaterEqual(time.monotonic() - start, 9)
        finally:
            f.close()
        self.assertEqual(len(parse_mbox(self.t.export_mbox("alice"))), 1)

    def test_twenty_parallel_deliveries(self):
        def one(i):
            return self.t.deliver("alice", b"Subject: parallel %d\n\nmessage %d\n" % (i, i))

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(one, range(20)))
        for r in results:
            self.assertEqual(r.returncode, 0, r.stderr)
        msgs = parse_mbox(self.t.export_mbox("alice"))
        self.assertEqual(sorted(m[0] for m in msgs),
                         sorted(b"Subject: parallel %d\n\nmessage %d\n" % (i, i)
                                for i in range(20)))
        self.assertEqual(sorted(index_uids(self.t.mailbox_dir("alice", "^i^n^b^o^x"))),
                         list(range(1, 21)))


class ImportExportTest(ToolTest):
    def fixture(self):
        with open(os.path.join(FIXTURES, "sample.mbox"), "rb") as f:
            return f.read()

    def test_import_mbox(self):
        r = self.t.run("import", "-u", "alice", "--mbox", os.path.join(FIXTURES, "sample.mbox"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"imported 5 messages into INBOX", r.stdout)
        expected = parse_mbox(self.fixture())
        self.assertEqual(len(expected), 5)
        exported = self.t.export_mbox("alice")
        got = parse_mbox(exported)
        self.assertEqual(got, expected)
        # Flags of the fixture: Status/X-Status turned into IMAP flags.
        self.assertEqual(got[0][1], frozenset({"S", "R"}))
        self.assertEqual(got[1][1], frozenset())
        self.assertEqual(got[2][1], frozenset({"F"}))
        self.assertEqual(got[2][2], ("$Label1", "Important"))
        self.assertEqual(got[3][1], frozenset({"S", "D", "T"}))
        # ">From " lines: unquoted once on import, quoted again on export.
        self.assertIn(b"\nFrom the start", got[1][0])
        self.assertIn(b"\n>From here", got[1][0])
        self.assertIn(b"\n>From the start", exported)
        self.assertIn(b"\n>>>From and here", exported)
        # Dates from the "From " lines.
        self.assertIn(b"From MAILER-DAEMON Mon Mar  4 10:15:00 2024\n", exported)
        # The state headers are not stored in the message.
        with open(os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data"), "rb") as f:
            data = f.read()
        self.assertNotIn(b"X-Status:", data)
        self.assertIn("Grüße aus Köln!".encode(), data)
        # Round trip mbox -> store -> mbox -> store -> mbox: byte-identical.
        again = os.path.join(self.t.dir, "again.mbox")
        with open(again, "wb") as f:
            f.write(exported)
        r = self.t.run("import", "-u", "bob", "-m", "Archive/2024", "--mbox", again)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"imported 5 messages into Archive/2024", r.stdout)
        self.assertEqual(self.t.export_mbox("bob", "Archive/2024"), exported)

    def make_maildir(self, path):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(path, sub))
        files = [
            ("cur", "1700000003.M3P10.host:2,FR", b"Subject: third\n\nflagged+answered\n",
             1700000003),
            ("new", "1700000002.M2P10.host", b"Subject: second\r\n\r\nnew, CRLF\r\n", 1700000002),
            ("cur", "1700000001.M1P10.host:2,S", b"Subject: first\n\nseen\n", 1700000001),
            ("cur", "1700000004.M4P10.host:2,DSTa", b"Subject: fourth\n\ndraft deleted kw\n",
             1700000004),
        ]
        for sub, name, body, mtime in files:
            p = os.path.join(path, sub, name)
            with open(p, "wb") as f:
                f.write(body)
            os.utime(p, (mtime, mtime))
        with open(os.path.join(path, "dovecot-keywords"), "w") as f:
            f.write("0 $Work\n")

    def read_maildir(self, path):
        out = []
        for sub in ("cur", "new"):
            for name in os.listdir(os.path.join(path, sub)):
                p = os.path.join(path, sub, name)
                flags = name.split(":2,", 1)[1] if ":2," in name else ""
                with open(p, "rb") as f:
                    out.append((int(name.split(".")[0]), f.read(), flags,
                                int(os.stat(p).st_mtime)))
        return sorted(out)

    def test_import_and_export_maildir(self):
        src = os.path.join(self.t.dir, "Maildir")
        self.make_maildir(src)
        r = self.t.run("import", "-u", "alice", "-m", "Old", "--maildir", src)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"imported 4 messages into Old", r.stdout)
        got = parse_mbox(self.t.export_mbox("alice", "Old"))
        self.assertEqual([m[0] for m in got], [
            b"Subject: first\n\nseen\n", b"Subject: second\n\nnew, CRLF\n",
            b"Subject: third\n\nflagged+answered\n", b"Subject: fourth\n\ndraft deleted kw\n"])
        self.assertEqual([m[1] for m in got], [frozenset("S"), frozenset(), frozenset("FR"),
                                               frozenset("DST")])
        self.assertEqual(got[3][2], ("$Work",))
        dst = os.path.join(self.t.dir, "Exported")
        r = self.t.run("export", "-u", "alice", "-m", "Old", "--maildir", dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.read_maildir(dst)
        self.assertEqual([(f[1], f[2], f[3]) for f in files], [
            (b"Subject: first\n\nseen\n", "S", 1700000001),
            (b"Subject: second\n\nnew, CRLF\n", "", 1700000002),
            (b"Subject: third\n\nflagged+answered\n", "FR", 1700000003),
            (b"Subject: fourth\n\ndraft deleted kw\n", "DSTa", 1700000004)])
        with open(os.path.join(dst, "dovecot-keywords")) as f:
            self.assertEqual(f.read(), "0 $Work\n")
        self.assertEqual(os.listdir(os.path.join(dst, "tmp")), [])

    def test_round_trip_mbox_maildir_mbox(self):
        r = self.t.run("import", "-u", "alice", "--mbox", os.path.join(FIXTURES, "sample.mbox"))
        self.assertEqual(r.returncode, 0, r.stderr)
        first = self.t.export_mbox("alice")
        md = os.path.join(self.t.dir, "md")
        self.assertEqual(self.t.run("export", "-u", "alice", "--maildir", md).returncode, 0)
        r = self.t.run("import", "-u", "bob", "--maildir", md)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"imported 5 messages into INBOX", r.stdout)
        self.assertEqual(self.t.export_mbox("bob"), first)
        self.assertEqual(parse_mbox(first), parse_mbox(self.fixture()))

    def test_usage_errors(self):
        self.assertEqual(self.t.run("import", "-u", "alice").returncode, EX_USAGE)
        self.assertEqual(self.t.run("export", "-u", "alice", "--mbox", "a", "--maildir",
                                    "b").returncode, EX_USAGE)
        self.assertEqual(self.t.run("import", "-u", "zed", "--mbox",
                                    os.path.join(FIXTURES, "sample.mbox")).returncode, EX_NOUSER)
        self.assertEqual(self.t.run("import", "-u", "alice", "--mbox",
                                    os.path.join(self.t.dir, "none")).returncode, EX_NOINPUT)
        notmbox = os.path.join(self.t.dir, "not.mbox")
        with open(notmbox, "wb") as f:
            f.write(b"Subject: no separator\n\nbody\n")
        self.assertEqual(self.t.run("import", "-u", "alice", "--mbox", notmbox).returncode,
                         EX_DATAERR)
        self.assertEqual(self.t.run("export", "-u", "alice", "-m", "Nope", "--mbox",
                                    os.path.join(self.t.dir, "x")).returncode, EX_NOINPUT)


class AclTest(ToolTest):
    """`tinyimapd acl` (RFC 4314 rights from the shell) and `check` of m.acl."""

    def test_acl_lists_sets_and_deletes_rfc4314_3_1(self):
        self.assertEqual(self.t.deliver("alice", b"Subject: f\n\nf\n", "-m", "Family",
                                        "--create").returncode, 0)
        acl = lambda *a: self.t.run("acl", "-u", "alice", "-m", "Family", *a)
        r = acl()
        self.assertEqual((r.returncode, r.stdout), (0, b"alice lrswipkxtea\n"), r.stderr)
        self.assertEqual(acl("bob", "lrs").stdout, b"alice lrswipkxtea\nbob lrs\n")
        self.assertEqual(acl("bob", "+id").stdout, b"alice lrswipkxtea\nbob lrsite\n")
        self.assertEqual(acl("bob", "-st").stdout, b"alice lrswipkxtea\nbob lrie\n")
        self.assertEqual(acl("bob").stdout, b"bob lrie\n")
        # RFC 4314 §2: the owner keeps l and a.
        self.assertEqual(acl("alice", "").stdout, b"alice la\nbob lrie\n")
        self.assertEqual(acl("bob", "--delete").stdout, b"alice la\n")
        self.assertEqual(acl("bob", "lrq").returncode, EX_USAGE)
        self.assertEqual(acl("-bob", "lr").returncode, EX_USAGE)
        with open(os.path.join(self.t.mailbox_dir("alice", "^family"), "m.acl"), "rb") as f:
            self.assertEqual(f.read(), b"tinyimapd-acl 1\nla alice\n")
        r = self.t.run("acl", "-u", "alice", "-m", "Nothing")
        self.assertEqual(r.returncode, EX_DATAERR)

    def test_check_reports_a_bad_acl_file(self):
        self.assertEqual(self.t.deliver("alice", b"Subject: f\n\nf\n", "-m", "Family",
                                        "--create").returncode, 0)
        self.assertEqual(self.t.run("check", "-u", "alice").returncode, 0)
        with open(os.path.join(self.t.mailbox_dir("alice", "^family"), "m.acl"), "wb") as f:
            f.write(b"tinyimapd-acl 1\nlrQ bob\n")
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, EX_DATAERR, r.stdout)
        self.assertIn(b"alice/Family: PROBLEM: m.acl is not valid", r.stdout)


class CheckTest(ToolTest):
    def test_check_healthy(self):
        for i in range(3):
            self.assertEqual(self.t.deliver("alice", b"Subject: %d\n\nx\n" % i).returncode, 0)
        self.assertEqual(self.t.deliver("alice", b"Subject: w\n\nw\n", "-m", "Work",
                                        "--create").returncode, 0)
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(state_values(r.stdout, b"alice/INBOX")[0::2], (3, 4))
        self.assertEqual(state_values(r.stdout, b"alice/Work")[0::2], (1, 2))
        self.assertEqual(r.stdout.count(b"; ok\n"), 2, r.stdout)
        r = self.t.run("check", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"alice/INBOX", r.stdout)
        self.assertIn(b"bob: no mail directory yet", r.stdout)
        self.assertEqual(self.t.run("check", "-u", "nobody-here").returncode, EX_NOUSER)
        self.assertEqual(self.t.run("check").returncode, EX_USAGE)

    def test_check_rebuilds_deleted_index(self):
        for i in range(5):
            self.assertEqual(self.t.deliver("alice", b"Subject: %d\n\nx\n" % i).returncode, 0)
        inbox = self.t.mailbox_dir("alice", "^i^n^b^o^x")
        before_uids = index_uids(inbox)
        r = self.t.run("check", "-u", "alice")
        before = state_values(r.stdout, b"alice/INBOX")
        before_export = self.t.export_mbox("alice")
        os.unlink(os.path.join(inbox, "m.index"))
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"rebuilt", r.stdout)
        self.assertEqual(state_values(r.stdout, b"alice/INBOX"), before)
        self.assertTrue(os.path.exists(os.path.join(inbox, "m.index")))
        self.assertEqual(index_uids(inbox), before_uids)
        self.assertEqual(self.t.export_mbox("alice"), before_export)
        # Healthy again.
        r = self.t.run("check", "-u", "alice")
        self.assertIn(b"; ok\n", r.stdout)

    def test_check_upgrades_a_version_1_index(self):
        """docs/STORAGE.md "Upgrading a version 1 index": an index an older
        tinyimapd wrote is upgraded when its mailbox is opened; UIDs and
        messages stay."""
        for i in range(4):
            self.assertEqual(self.t.deliver("alice", b"Subject: %d\n\nx\n" % i).returncode, 0)
        inbox = self.t.mailbox_dir("alice", "^i^n^b^o^x")
        before_uids = index_uids(inbox)
        before_export = self.t.export_mbox("alice")
        downgrade_index(os.path.join(inbox, "m.index"))
        self.assertEqual(index_version(inbox), 1)
        self.assertEqual(index_uids(inbox), before_uids)
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"repaired: index upgraded to version 2", r.stdout)
        self.assertEqual(index_version(inbox), 2)
        self.assertEqual(index_uids(inbox), before_uids)
        self.assertEqual(self.t.export_mbox("alice"), before_export)
        r = self.t.run("check", "-u", "alice")
        self.assertIn(b"; ok\n", r.stdout)

    def test_check_cuts_uncommitted_tail(self):
        self.assertEqual(self.t.deliver("alice", b"Subject: a\n\nx\n").returncode, 0)
        data = os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data")
        with open(data, "ab") as f:
            f.write(b"TIMF" + b"\0" * 30)  # a torn append that never committed
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"uncommitted tail of 34 bytes removed", r.stdout)
        self.assertEqual(len(parse_mbox(self.t.export_mbox("alice"))), 1)

    def test_check_unusable_data_file(self):
        self.assertEqual(self.t.deliver("alice", b"Subject: a\n\nx\n").returncode, 0)
        data = os.path.join(self.t.mailbox_dir("alice", "^i^n^b^o^x"), "m.data")
        with open(data, "r+b") as f:
            f.write(b"XXXX")  # the DataHeader no longer checks
        r = self.t.run("check", "-u", "alice")
        self.assertIn(r.returncode, (EX_DATAERR, 74), r.stdout)
        self.assertIn(b"PROBLEM", r.stdout)

    def test_check_metadata_files(self):
        """docs/STORAGE.md "Metadata": check reads every annotation record
        of m.meta, user.meta and server.meta and reports a corrupt one."""
        self.assertEqual(self.t.deliver("alice", b"Subject: a\n\nx\n").returncode, 0)
        inbox = self.t.mailbox_dir("alice", "^i^n^b^o^x")
        with open(os.path.join(inbox, "m.meta"), "wb") as f:
            f.write(meta_file([(b"", b"/shared/comment", b"hello"),
                               (b"alice", b"/private/comment", b"mine")]))
        root = os.path.dirname(inbox)
        with open(os.path.join(root, "user.meta"), "wb") as f:
            f.write(meta_file([(b"alice", b"/private/x", b"")]))
        with open(os.path.join(os.path.dirname(root), "server.meta"), "wb") as f:
            f.write(meta_file([(b"", b"/shared/comment", b"nas")]))
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"; 2 annotations; ok\n", r.stdout)
        self.assertIn(b"alice (server annotations): 1 annotations\n", r.stdout)
        self.assertIn(b"shared server annotations: 1 annotations\n", r.stdout)
        with open(os.path.join(inbox, "m.meta"), "r+b") as f:
            f.seek(-1, os.SEEK_END)
            f.write(b"X")  # the last value's CRC no longer matches
        r = self.t.run("check", "-u", "alice")
        self.assertEqual(r.returncode, EX_DATAERR, r.stdout)
        self.assertIn(b"PROBLEM: annotations unreadable", r.stdout)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def meta_file(records):
    """A metadata file of version 1 (docs/STORAGE.md "Metadata")."""
    out = b"TIMM" + struct.pack("<I", 1)
    for owner, name, value in records:
        head = struct.pack("<BBHI", len(owner), len(name), 0, len(value))
        out += head + struct.pack("<I", crc32c(head + owner + name + value)) + owner + name + value
    return out


def main():
    global BINARY, EMULATOR, SLOW
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--emulator", default="")
    args, rest = p.parse_known_args()
    BINARY = os.path.abspath(args.binary)
    EMULATOR = shlex.split(args.emulator.replace(";", " "))
    if EMULATOR:
        SLOW = 3.0
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
