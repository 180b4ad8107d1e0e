#!/usr/bin/env python3
"""Several clients sharing a few users' mailboxes: a correctness stress run.

    stress_shared.py --binary PATH [--clients 10] [--users 3] [--seconds 30]
                     [--seed 1] [--server-arg=--output-buffer=8192 ...]
    stress_shared.py --port P [...]          (a server already running, users
                                              u1..uU with password stresspw)

N clients (threads on raw sockets, only 127.0.0.1) over U users, so about
N/U sessions share each user's mailboxes. Each runs a random, realistic mix
on them: SELECT/EXAMINE, APPEND (sync literals and LITERAL+, MULTIAPPEND),
FETCH (FLAGS, BODY.PEEK[], ENVELOPE, BODYSTRUCTURE, by sequence and UID),
STORE/UID STORE +/-FLAGS with keywords, COPY, MOVE/UID MOVE, SEARCH, EXPUNGE,
UID EXPUNGE, NOOP, IDLE, CREATE/RENAME/DELETE of a volatile mailbox the
user's other sessions select, STATUS, LIST, and once per client 60 keywords
of 45 bytes on one message (FETCH and SELECT must list them all).

Checked: every byte's framing (tests/e2e/test_server.py's FramingChecker);
every tagged status (a NO is an error unless it is a race the RFCs allow:
NONEXISTENT/ALREADYEXISTS/TRYCREATE on the volatile mailboxes, EXPUNGEISSUED;
a BYE because the selected volatile mailbox was deleted elsewhere is counted
apart); per session, the message count and UIDs followed from EXISTS/EXPUNGE
and FETCH UID (no FETCH/SEARCH number beyond EXISTS, a FETCH's UID never
changes for a position); every fetched body's checksum. Every --checkpoint
seconds, and at the end, all clients stop, each NOOPs, then the UIDs it
followed must equal UID FETCH 1:* and, for the stable mailboxes, a re-SELECT's
EXISTS. Prints commands and errors by kind (first examples); exits 1 on any
unexpected error.
"""
import argparse
import collections
import hashlib
import os
import random
import re
import socket
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import test_server  # noqa: E402  (FramingChecker, Server)

PASSWORD = "stresspw"
STABLE = ["INBOX", "Shared/A", "Shared/B"]
# Created, renamed into each other and deleted while sessions select them;
# the children follow their parent's RENAME (RFC 3501 §6.3.5) and keep a
# DELETEd parent as \Noselect (§6.3.4).
VOLATILE = ["Volatile", "Volatile2", "Volatile/Sub", "Volatile2/Sub"]
OTHER = {"Volatile": "Volatile2", "Volatile2": "Volatile", "Volatile/Sub": "Volatile2/Sub",
         "Volatile2/Sub": "Volatile/Sub"}
KEYWORDS = ["$Label%d" % i for i in range(1, 9)] + ["Junk", "NonJunk", "$Forwarded", "proj-x"]
SYSFLAGS = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft"]
RACE_CODES = (b"[NONEXISTENT]", b"[ALREADYEXISTS]", b"[TRYCREATE]")
# RFC 3501 §6.3.11, §6.4.7: an APPEND or COPY to a mailbox that does not
# exist MUST get [TRYCREATE] (RFC 6851 §3.3 for MOVE).
DEST_CODES = (b"[TRYCREATE]",)


class Stop(Exception):
    pass


class SessionEnded(Exception):
    def __init__(self, line):
        super().__init__(line)
        self.line = line


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.errors = {}    # kind -> [count, examples]
        self.expected = {}  # kind -> [count, examples]
        self.checks = {}    # what was verified -> count
        self.latencies = {}  # verb -> [count, total s, max s, slowest command]

    def latency(self, verb, dt, text):
        with self.lock:
            e = self.latencies.setdefault(verb, [0, 0.0, 0.0, ""])
            e[0] += 1
            e[1] += dt
            if dt > e[2]:
                e[2], e[3] = dt, text[:60]

    def count(self, what, n=1):
        with self.lock:
            self.checks[what] = self.checks.get(what, 0) + n

    def add(self, table, kind, example):
        with self.lock:
            e = table.setdefault(kind, [0, []])
            e[0] += 1
            if len(e[1]) < 3:
                e[1].append(example[:400])


def make_message(rnd, cid, n):
    kind = rnd.random()
    subj = rnd.choice(["report", "=?UTF-8?B?w6lsw6hWZQ==?= meeting", "Re: lunch (today)",
                       "a \"quoted\" subject", "long " * 30])
    body_lines = ["line %d of message %d-%d %s" % (i, cid, n, "x" * rnd.randint(0, 70))
                  for i in range(rnd.choice([3, 20, 200, 1500]))]
    if kind < 0.6:
        ctype = "Content-Type: text/plain; charset=utf-8\r\n"
        body = "\r\n".join(body_lines) + "\r\n"
    else:
        b = "b%d-%d" % (cid, n)
        ctype = 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="%s"\r\n' % b
        att = "QUJD" * rnd.randint(10, 4000)
        att = "\r\n".join(att[i:i + 76] for i in range(0, len(att), 76))
        body = ("--%s\r\nContent-Type: text/plain\r\n\r\n%s\r\n--%s\r\n"
                "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n"
                "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n%s\r\n--%s--\r\n"
                % (b, "\r\n".join(body_lines[:10]), b, att, b))
    body = body.encode()
    head = ("From: Client %d <c%d@example.org>\r\nTo: \"User, Some\" <u@example.net>, x@y.z\r\n"
            "Cc: group: a@b.c, d@e.f;\r\nSubject: %s\r\nDate: Thu, 3 Dec 2026 09:%02d:00 +0000\r\n"
            "Message-ID: <%d.%d.%d@stress>\r\nX-Check: %s\r\n%s\r\n"
            % (cid, cid, subj, n % 60, cid, n, rnd.getrandbits(32),
               hashlib.sha1(body).hexdigest(), ctype)).encode()
    return head + body


def uid_list(text):
    out = []
    for part in text.decode().split(","):
        a, _, b = part.partition(":")
        a, b = int(a), int(b or a)
        out += range(min(a, b), max(a, b) + 1)
    return out


def check_body(msg):
    """A fetched message's X-Check header must be its body's SHA-1."""
    head, sep, body = msg.partition(b"\r\n\r\n")
    m = re.search(rb"\r\nX-Check: ([0-9a-f]{40})\r\n", b"\r\n" + head + b"\r\n")
    if not m:
        return "no X-Check header"
    if hashlib.sha1(body).hexdigest().encode() != m.group(1):
        return "body checksum mismatch (%d bytes)" % len(msg)
    return None


class Client:
    def __init__(self, cid, user, port, rnd, stats, args, barrier, ctl):
        self.cid = cid
        self.user = user
        self.port = port
        self.rnd = rnd
        self.stats = stats
        self.args = args
        self.barrier = barrier
        self.ctl = ctl
        self.ntag = 0
        self.nmsg = 0
        self.sock = None
        self.kw_done = False
        self.trace = collections.deque(maxlen=300)  # recent lines, for --trace

    # ---- wire ---------------------------------------------------------------

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.args.timeout)
        self.framing = test_server.FramingChecker()
        self.buf = b""
        self.selected = None
        self.readonly = False
        self.uids = []  # per position: the UID, or None while unknown
        self.leaving = None
        self.qresync = False
        self.seen_state = getattr(self, "seen_state", {})  # kept across sessions
        self.modseqs = getattr(self, "modseqs", {})  # (mailbox, UID) -> last MODSEQ
        line = self.read_line()
        if not line.startswith(b"* OK"):
            raise AssertionError("greeting %r" % line)
        self.cmd("LOGIN %s %s" % (self.user, PASSWORD))
        r = self.rnd.random()
        self.condstore = r < 0.5
        self.qresync = r < 0.25  # expunges come as VANISHED (RFC 7162 §3.2.10)
        if self.condstore:
            self.command("ENABLE QRESYNC" if self.qresync else "ENABLE CONDSTORE")
        self.stats.count("sessions")

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.framing.feed(chunk)
        self.buf += chunk

    def read_raw_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self.recv()

    def read_line(self):
        """One response with its literals: (skeleton text with "{n}" kept, literals)."""
        skel = self.read_raw_line()
        lits = []
        while True:
            m = re.search(rb"\{(\d+)\}$", skel)
            if not m:
                break
            n = int(m.group(1))
            while len(self.buf) < n:
                self.recv()
            lits.append(self.buf[:n])
            self.buf = self.buf[n:]
            skel += b"\x00" + self.read_raw_line()
        self.last_lits = lits
        self.trace.append(b"S: " + skel[:160])
        return skel

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text, literals=(), plus=None, allow=(), idle=None):
        """Sends a command; `text` holds one "%L" per literal. Returns (status
        line, untagged responses as (skeleton, literals))."""
        self.ntag += 1
        tag = b"c%dt%d" % (self.cid, self.ntag)
        if plus is None:
            plus = self.rnd.random() < 0.5
        parts = text.encode().split(b"%L")
        self.t_sent = time.time()
        self.trace.append(b"C: " + tag + b" " + text.encode()[:160] + b" [qresync=%d]" % self.qresync)
        untagged = []
        out = tag + b" " + parts[0]
        self.stats.count("commands")
        for lit, rest in zip(literals, parts[1:]):
            if plus:
                out += b"{%d+}\r\n" % len(lit) + lit + rest
            else:
                self.send(out + b"{%d}\r\n" % len(lit))
                out = b""
                while True:
                    line = self.read_line()
                    if line.startswith(b"+"):
                        break
                    if line.startswith(tag + b" "):
                        return self.finish(text, tag, line, untagged, allow)
                    untagged.append(self.untagged(line))
                out = lit + rest
        self.send(out + b"\r\n")
        if idle is not None:
            while True:
                line = self.read_line()
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    return self.finish(text, tag, line, untagged, allow)
                untagged.append(self.untagged(line))
            end = time.time() + idle
            self.sock.settimeout(0.1)
            try:
                while time.time() < end:
                    try:
                        line = self.read_line()
                    except socket.timeout:
                        continue
                    untagged.append(self.untagged(line))
            finally:
                self.sock.settimeout(self.args.timeout)
            self.send(b"DONE\r\n")
        while True:
            line = self.read_line()
            if line.startswith(tag + b" "):
                return self.finish(text, tag, line, untagged, allow)
            if line.startswith(b"+"):
                raise AssertionError("unexpected continuation %r for %s" % (line, text[:60]))
            untagged.append(self.untagged(line))

    def finish(self, text, tag, line, untagged, allow):
        status = line[len(tag) + 1:].split(b" ", 1)[0]
        verb = text.split(" ", 2)
        verb = " ".join(verb[:2]) if verb[0] == "UID" else verb[0]
        self.stats.latency(verb, time.time() - self.t_sent, text)
        if status != b"OK":
            if status == b"NO" and any(code in line for code in allow):
                self.stats.add(self.stats.expected, "%s NO %s" % (verb, line.split(b"[")[1].split(b"]")[0].decode()),
                               "%s -> %r" % (text[:100], line))
            else:
                self.stats.add(self.stats.errors, "%s %s" % (verb, status.decode()),
                               "%s [%s sel=%s] -> %r" % (text[:120], self.user, self.selected, line))
        return line, status, untagged

    def untagged(self, skel):
        lits = self.last_lits
        if not skel.startswith(b"* "):
            raise AssertionError("not an untagged response: %r" % skel[:200])
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE|FETCH|RECENT)\b", skel)
        if m:
            n, what = int(m.group(1)), m.group(2)
            if what == b"EXISTS":
                if n < len(self.uids):
                    self.error("EXISTS shrank", "%d after %d in %s" % (n, len(self.uids), self.selected))
                    self.uids = self.uids[:n]
                self.uids += [None] * (n - len(self.uids))
            elif what == b"EXPUNGE":
                if not 1 <= n <= len(self.uids):
                    self.error("EXPUNGE beyond EXISTS", "%d of %d in %s" % (n, len(self.uids), self.selected))
                else:
                    del self.uids[n - 1]
            elif what == b"FETCH":
                if not 1 <= n <= len(self.uids):
                    self.error("FETCH beyond EXISTS", "%d of %d in %s: %r" % (n, len(self.uids), self.selected, skel[:150]))
                else:
                    u = re.search(rb"[( ]UID (\d+)", skel)
                    if u:
                        uid = int(u.group(1))
                        if self.uids[n - 1] not in (None, uid):
                            self.error("FETCH UID changed", "position %d was UID %s, now %d in %s"
                                       % (n, self.uids[n - 1], uid, self.selected))
                        self.uids[n - 1] = uid
                        ms = re.search(rb"[( ]MODSEQ \((\d+)\)", skel)
                        if ms and self.selected in STABLE:
                            key, v = (self.selected, uid), int(ms.group(1))
                            if self.modseqs.get(key, 0) > v:
                                self.error("MODSEQ went back", "%s UID %d: %d -> %d"
                                           % (self.selected, uid, self.modseqs[key], v))
                            self.modseqs[key] = v
                            self.stats.count("MODSEQs checked monotonic")
            return (skel, lits)
        if skel.startswith(b"* VANISHED ") and not skel.startswith(b"* VANISHED (EARLIER)"):
            for uid in uid_list(skel.split()[2]):
                if uid in self.uids:
                    self.uids.remove(uid)
                    continue
                # §3.2.10: only messages announced by EXISTS: one whose UID we
                # have not asked yet, in a run of unknown positions between a
                # smaller and a larger known UID (positions go up with UIDs).
                lower, slot = 0, None
                for i, u in enumerate(self.uids):
                    if u is None:
                        if slot is None and lower < uid:
                            slot = i
                    elif u < uid:
                        lower, slot = u, None
                    else:
                        break
                if slot is None:
                    self.error("VANISHED of a UID the session was not shown",
                               "%d in %s" % (uid, self.selected))
                else:
                    del self.uids[slot]
            self.stats.count("VANISHED responses")
            return (skel, lits)
        if skel.startswith(b"* BYE"):
            raise SessionEnded(skel)
        if skel.startswith(b"* SEARCH"):
            for w in skel.split()[2:]:
                if w.isdigit() and int(w) > len(self.uids) and b"UID" not in self.last_text:
                    self.error("SEARCH beyond EXISTS", "%s > %d" % (w, len(self.uids)))
        if skel.startswith(b"* OK [CLOSED]"):
            # RFC 7162 §3.2.11: the selected mailbox is closed (our own DELETE
            # of it, or a SELECT replacing it).
            self.selected = None
            self.uids = []
        return (skel, lits)

    def error(self, kind, example):
        self.stats.add(self.stats.errors, kind, "%s [%s c%d]" % (example, self.user, self.cid))
        if self.args.trace:
            name = os.path.join(self.args.trace, "c%d-%d.txt" % (self.cid, time.time() * 1000))
            with open(name, "wb") as f:
                f.write(("%s: %s\n" % (kind, example)).encode() + b"\n".join(self.trace) + b"\n")

    def command(self, text, **kw):
        self.last_text = text.encode()
        return self.cmd(text, **kw)

    # ---- state --------------------------------------------------------------

    def select(self, mbox, examine=False):
        allow = RACE_CODES if mbox in VOLATILE else ()
        prev = self.selected
        self.leaving = prev  # a BYE for it may come first
        self.selected = None
        self.uids = []
        line, st, un = self.command('%s "%s"' % ("EXAMINE" if examine else "SELECT", mbox), allow=allow)
        if st == b"OK":
            self.selected = mbox
            self.readonly = examine
            self.uids = []
            for skel, _ in un:
                m = re.match(rb"\* (\d+) EXISTS", skel)
                if m:
                    self.uids = [None] * int(m.group(1))
            self.check_state(mbox, un)
        elif prev is not None and not any(c in line for c in RACE_CODES):
            pass
        return st

    def check_state(self, mbox, untagged):
        """RFC 3501 §2.3.1.1, RFC 7162 §3.1.2: for a mailbox that lives on, in
        this session's order of observation, UIDVALIDITY stays, UIDNEXT and
        HIGHESTMODSEQ never go back."""
        if mbox not in STABLE:
            return
        st = {}
        for skel, _ in untagged:
            m = re.match(rb"\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]", skel)
            if m:
                st[m.group(1).decode()] = int(m.group(2))
        old = self.seen_state.get(mbox, {})
        if "UIDVALIDITY" in old and st.get("UIDVALIDITY", old["UIDVALIDITY"]) != old["UIDVALIDITY"]:
            self.error("UIDVALIDITY changed", "%s: %s -> %s" % (mbox, old, st))
        for k in ("UIDNEXT", "HIGHESTMODSEQ"):
            if k in old and k in st and st[k] < old[k]:
                self.error(k + " went back", "%s: %d -> %d" % (mbox, old[k], st[k]))
        old.update(st)
        self.seen_state[mbox] = old
        self.stats.count("SELECT states checked monotonic")

    def seqset(self, small=False):
        n = len(self.uids)
        if n == 0:
            return None
        r = self.rnd.random()
        if small and n > 20:
            r = min(r, 0.8)
        if r < 0.4:
            return str(self.rnd.randint(1, n))
        if r < 0.7:
            a = self.rnd.randint(1, n)
            return "%d:%d" % (a, min(n, a + self.rnd.randint(0, 5)))
        if r < 0.85:
            return "%d,%d" % (self.rnd.randint(1, n), self.rnd.randint(1, n))
        return "1:*"

    def uidset(self, small=False):
        known = [u for u in self.uids if u]
        if (not known and not small) or (self.rnd.random() < 0.2 and not (small and len(self.uids) > 20)):
            return "1:*"
        if not known:
            return "*"  # the last message only
        a = self.rnd.choice(known)
        return "%d:%d" % (a, a + self.rnd.randint(0, 4)) if self.rnd.random() < 0.5 else str(a)

    def flags(self):
        fl = self.rnd.sample(SYSFLAGS + KEYWORDS, self.rnd.randint(1, 3))
        return "(%s)" % " ".join(fl)

    # ---- operations ------------------------------------------------------------

    def op_select(self):
        mbox = self.rnd.choice(STABLE * 3 + VOLATILE)
        self.select(mbox, examine=self.rnd.random() < 0.15)

    def op_append(self):
        mbox = self.rnd.choice(STABLE * 4 + VOLATILE)
        allow = DEST_CODES if mbox in VOLATILE else ()
        count = 1 if self.rnd.random() < 0.75 else self.rnd.randint(2, 5)
        msgs = []
        text = 'APPEND "%s"' % mbox
        for _ in range(count):
            self.nmsg += 1
            msgs.append(make_message(self.rnd, self.cid, self.nmsg))
            if self.rnd.random() < 0.5:
                text += " " + self.flags()
            if self.rnd.random() < 0.2:
                text += ' "03-Dec-2026 10:00:00 +0100"'
            text += " %L"
        line, st, _ = self.command(text, literals=msgs, allow=allow)
        m = re.search(rb"\[APPENDUID (\d+) (\d+)(:\d+)?\]", line)
        if st == b"OK" and not m:
            self.error("APPEND OK without APPENDUID", repr(line))
        elif st == b"OK" and mbox in STABLE:
            known = self.seen_state.get(mbox, {})
            if int(m.group(1)) != known.get("UIDVALIDITY", int(m.group(1))) or \
                    int(m.group(2)) < known.get("UIDNEXT", 0):
                self.error("APPENDUID below a UIDNEXT seen before", "%s: %r, seen %s" % (mbox, line, known))
            self.stats.count("APPENDUIDs checked")

    def op_fetch(self):
        items = self.rnd.choice(["(FLAGS)", "(UID FLAGS)", "(BODY.PEEK[])", "(ENVELOPE)",
                                 "(BODYSTRUCTURE)", "(UID RFC822.SIZE FLAGS INTERNALDATE)",
                                 "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])",
                                 "(UID BODY.PEEK[1] BODY.PEEK[TEXT]<0.100>)", "FAST", "ALL"]
                                + (["(UID MODSEQ FLAGS)", "(UID FLAGS) (CHANGEDSINCE 1)"] if self.condstore else []))
        if self.rnd.random() < 0.4:
            text = "UID FETCH %s %s" % (self.uidset(), items)
        else:
            s = self.seqset()
            if s is None:
                return
            text = "FETCH %s %s" % (s, items)
        line, st, un = self.command(text, allow=(b"[EXPUNGEISSUED]",))
        for skel, lits in un:
            if b" FETCH (" in skel and b"BODY[] " in skel.replace(b"BODY[]\x00", b"BODY[] ") and lits:
                pass
            if b" FETCH (" in skel and b"BODY[] {" in skel:
                self.stats.count("bodies checksummed")
                why = check_body(lits[0])
                if why:
                    self.error("FETCH BODY[] content", "%s: %r" % (why, skel[:100]))

    def op_store(self):
        op = self.rnd.choice(["+FLAGS", "-FLAGS", "+FLAGS.SILENT", "-FLAGS.SILENT", "FLAGS"])
        if op == "FLAGS" and self.rnd.random() < 0.7:
            op = "+FLAGS"
        if self.condstore and self.rnd.random() < 0.3:
            op = "(UNCHANGEDSINCE %d) %s" % (self.rnd.choice([1, 10 ** 6, 10 ** 12]), op)
        if self.rnd.random() < 0.4:
            text = "UID STORE %s %s %s" % (self.uidset(), op, self.flags())
        else:
            s = self.seqset()
            if s is None:
                return
            text = "STORE %s %s %s" % (s, op, self.flags())
        self.command(text, allow=(b"[EXPUNGEISSUED]",) if not self.readonly else (b"[READ-ONLY]",))

    def op_copy_move(self):
        dest = self.rnd.choice(STABLE + STABLE + VOLATILE[:1])
        allow = (b"[EXPUNGEISSUED]",) + (DEST_CODES if dest in VOLATILE else ())
        verb = self.rnd.choice(["COPY", "MOVE", "UID COPY", "UID MOVE"])
        if self.readonly and "MOVE" in verb:
            verb = verb.replace("MOVE", "COPY")
        # Small sets: a COPY of 1:* doubles a mailbox at each turn.
        if verb.startswith("UID"):
            s = self.uidset(small=True)
        else:
            s = self.seqset(small=True)
            if s is None:
                return
        line, st, un = self.command('%s %s "%s"' % (verb, s, dest), allow=allow)

    def op_search(self):
        crit = self.rnd.choice(["ALL", "UNSEEN", "FLAGGED", "KEYWORD $Label1", "SUBJECT meeting",
                                "FROM c1@example.org", "LARGER 5000", "BODY attachment",
                                "OR SEEN DELETED", "NOT KEYWORD Junk", "TEXT \"line 7\""])
        self.command(("UID SEARCH " if self.rnd.random() < 0.4 else "SEARCH ") + crit)

    def op_expunge(self):
        if self.readonly:
            return
        n = len(self.uids)
        if n > self.args.max_messages:
            # Keep the mailboxes at a realistic size.
            self.command("STORE 1:%d +FLAGS.SILENT (\\Deleted)" % (n - self.args.max_messages // 2),
                         allow=(b"[EXPUNGEISSUED]",))
            self.command("EXPUNGE")
            return
        if self.rnd.random() < 0.5 and self.uids:
            s = self.seqset()
            self.command("STORE %s +FLAGS.SILENT (\\Deleted)" % s, allow=(b"[EXPUNGEISSUED]",))
        if self.rnd.random() < 0.5:
            self.command("UID EXPUNGE %s" % self.uidset())
        else:
            self.command("EXPUNGE")

    def op_noop(self):
        if self.rnd.random() < 0.3:
            self.command("IDLE", idle=self.rnd.uniform(0.1, 0.8))
        else:
            self.command(self.rnd.choice(["NOOP", "CHECK"]) if self.selected else "NOOP")

    def op_mailboxes(self):
        r = self.rnd.random()
        a = self.rnd.choice(VOLATILE)
        b = OTHER[a]
        if r < 0.3:
            self.command('CREATE "%s"' % a, allow=RACE_CODES)
        elif r < 0.5:
            # §6.3.4: a \Noselect parent (DELETEd before) with children is an error.
            self.command('DELETE "%s"' % a, allow=RACE_CODES + (b"[CANNOT] Mailbox has children",))
        elif r < 0.7:
            self.command('RENAME "%s" "%s"' % (a, b), allow=RACE_CODES)
        elif r < 0.85:
            self.command('STATUS "%s" (MESSAGES UIDNEXT UNSEEN SIZE)' % self.rnd.choice(STABLE + VOLATILE),
                         allow=RACE_CODES)
        else:
            self.command('LIST "" "*"' if self.rnd.random() < 0.5 else 'LIST "" "%" RETURN (STATUS (MESSAGES))')
        if self.selected in VOLATILE and r < 0.7:
            # Our own DELETE/RENAME of the mailbox we have selected: DELETE
            # closes it ([CLOSED]); RENAME keeps it selected under the new name.
            pass

    def op_own_delete(self):
        """DELETE or RENAME of the volatile mailbox this session has selected."""
        mbox = self.rnd.choice(VOLATILE)
        if self.select(mbox) != b"OK":
            return
        if self.rnd.random() < 0.5:
            line, st, un = self.command('DELETE "%s"' % mbox, allow=RACE_CODES + (b"[CANNOT] Mailbox has children",))
            if st == b"OK":
                if not any(s.startswith(b"* OK [CLOSED]") for s, _ in un):
                    self.error("DELETE of the selected mailbox without [CLOSED]", repr(un[-3:]))
                self.selected = None
                self.uids = []
                line, st, un = self.command("NOOP")
        else:
            other = OTHER[mbox]
            line, st, un = self.command('RENAME "%s" "%s"' % (mbox, other), allow=RACE_CODES)
            self.command("FETCH 1:* (UID FLAGS)" if self.uids else "NOOP")

    def op_keywords60(self):
        """60 keywords of 45 bytes on one message of a mailbox of our own."""
        self.kw_done = True
        mbox = "Kw%d" % self.cid
        self.command('DELETE "%s"' % mbox, allow=RACE_CODES)
        self.command('CREATE "%s"' % mbox)
        self.nmsg += 1
        self.command('APPEND "%s" %%L' % mbox, literals=[make_message(self.rnd, self.cid, self.nmsg)])
        self.select(mbox)
        kws = ["K%02d_" % i + "k" * 41 for i in range(60)]
        assert all(len(k) == 45 for k in kws)
        line, st, un = self.command("STORE 1 +FLAGS (%s)" % " ".join(kws))
        line, st, un = self.command("FETCH 1 (FLAGS)")
        fl = [s for s, _ in un if b" FETCH " in s]
        if not fl or not all(k.encode() in fl[-1] for k in kws):
            self.error("60 keywords: FETCH FLAGS misses some", repr(fl)[:300])
        self.select(mbox)  # SELECT's FLAGS line must list them all
        line, st, un = self.command('SELECT "%s"' % mbox)
        self.uids = []
        for s, _ in un:
            m = re.match(rb"\* (\d+) EXISTS", s)
            if m:
                self.uids = [None] * int(m.group(1))
        flags = [s for s, _ in un if s.startswith(b"* FLAGS")]
        if not flags or not all(k.encode() in flags[0] for k in kws):
            self.error("60 keywords: SELECT FLAGS misses some", repr(flags)[:300])
        self.command('CLOSE')
        self.selected = None
        self.uids = []
        self.command('DELETE "%s"' % mbox)
        self.stats.count("60-keyword checks")

    def checkpoint(self):
        """All clients quiet: our followed state must be the server's."""
        if self.selected is None:
            return
        self.command("NOOP")
        followed = list(self.uids)
        line, st, un = self.command("UID FETCH 1:* (UID)")
        got = []
        for skel, _ in un:
            m = re.match(rb"\* (\d+) FETCH .*UID (\d+)", skel)
            if m:
                got.append((int(m.group(1)), int(m.group(2))))
        real = [u for _, u in sorted(got)]
        self.stats.count("checkpoint UID lists compared")
        if len(real) != len(followed) or any(f not in (None, r) for f, r in zip(followed, real)):
            self.error("checkpoint: followed UIDs differ from UID FETCH 1:*",
                       "%s: followed %d %s, server %d %s" % (self.selected, len(followed), followed[:8],
                                                             len(real), real[:8]))
        if self.selected in STABLE:
            n = len(self.uids)
            mbox = self.selected
            self.select(mbox, examine=self.readonly)
            self.stats.count("checkpoint re-SELECTs compared")
            if len(self.uids) != n:
                self.error("checkpoint: re-SELECT EXISTS differs from followed count",
                           "%s: followed %d, SELECT %d" % (mbox, n, len(self.uids)))

    # ---- loop ---------------------------------------------------------------------

    def one_op(self):
        if self.qresync and self.selected is not None and None in self.uids:
            # VANISHED names UIDs: learn the new messages' UIDs first.
            self.command("FETCH %d:* (UID)" % (self.uids.index(None) + 1))
            return
        if self.selected is None:
            self.op_select()
            return
        ops = [(self.op_fetch, 20), (self.op_store, 15), (self.op_append, 12), (self.op_copy_move, 8),
               (self.op_search, 6), (self.op_expunge, 6), (self.op_noop, 6), (self.op_select, 8),
               (self.op_mailboxes, 8), (self.op_own_delete, 1)]
        r = self.rnd.uniform(0, sum(w for _, w in ops))
        for f, w in ops:
            r -= w
            if r <= 0:
                f()
                return

    def at_checkpoint(self):
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            raise Stop()
        if self.sock:
            try:
                self.checkpoint()
            except SessionEnded as e:
                self.ended(e.line)
            except Exception as e:
                self.failed(e)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            raise Stop()

    def ended(self, line):
        if (self.selected in VOLATILE or (self.selected is None and self.leaving in VOLATILE)) \
                and b"deleted" in line:
            self.stats.add(self.stats.expected, "BYE: selected mailbox deleted elsewhere", repr(line))
        else:
            self.error("unexpected BYE", "%r (selected %s, last %r)" % (line, self.selected, self.last_text[:80]))
        self.close()

    def failed(self, e):
        kind = type(e).__name__
        if isinstance(e, AssertionError) and "malformed" in str(e):
            kind = "framing"
        self.error("exception: " + kind, "%s (last %r)" % (str(e)[:300], getattr(self, "last_text", b"")[:80]))
        if self.args.verbose:
            traceback.print_exc()
        self.close()

    def run(self):
        try:
            while True:
                now = time.time()
                if now >= self.ctl["next_checkpoint"][self.cid]:
                    self.ctl["next_checkpoint"][self.cid] += self.args.checkpoint
                    self.at_checkpoint()
                if now >= self.ctl["end"]:
                    break
                try:
                    if self.sock is None:
                        self.connect()
                    if not self.kw_done and self.rnd.random() < 0.01:
                        self.op_keywords60()
                    self.one_op()
                except SessionEnded as e:
                    self.ended(e.line)
                except Exception as e:
                    self.failed(e)
            self.ctl["next_checkpoint"][self.cid] = 0
            self.at_checkpoint()  # the final one
            if self.sock:
                try:
                    self.command("LOGOUT")
                except Exception:
                    pass
        except Stop:
            self.error("checkpoint barrier broken (a client hung?)", "client %d" % self.cid)
        finally:
            self.close()


def setup(port, users, initial):
    """The stable mailboxes of every user, `initial` messages each."""
    rnd = random.Random(0)
    for u in range(1, users + 1):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        f = s.makefile("rb")
        f.readline()

        def cmd(text, lit=None):
            s.sendall(b"s " + text.encode() + (b" {%d+}\r\n" % len(lit) + lit if lit else b"") + b"\r\n")
            while True:
                line = f.readline()
                if line.startswith(b"s "):
                    return line
        cmd("LOGIN u%d %s" % (u, PASSWORD))
        for mb in STABLE[1:]:
            cmd('CREATE "%s"' % mb)
        for mb in STABLE:
            for i in range(0, initial, 16):  # MULTIAPPEND, 16 at a time
                msgs = [make_message(rnd, 0, j) for j in range(i, min(initial, i + 16))]
                text = 'APPEND "%s"' % mb + "".join(" {%d+}\r\n" % len(m) + m.decode() for m in msgs[:-1])
                cmd(text, msgs[-1])
        cmd("LOGOUT")
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary")
    ap.add_argument("--port", type=int)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--users", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--checkpoint", type=float, default=10)
    ap.add_argument("--initial", type=int, default=5,
                    help="messages in each stable mailbox at the start (thousands: a mass expunge)")
    ap.add_argument("--max-messages", type=int, default=200,
                    help="a session seeing more messages expunges down to half")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--keep-log", help="copy the server's log here at the end")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--trace", help="a directory: at each error, the client's last 300 lines")
    a = ap.parse_args()
    server = None
    if a.binary:
        test_server.BINARY = os.path.abspath(a.binary)
        # Every client is on 127.0.0.1; a session ended by BYE lingers up to 2 s.
        per_address = ["--max-clients-per-address=%d" % (2 * a.clients + 4)]
        server = test_server.Server(extra=per_address + a.server_arg + ["--log-level=info"],
                                    users=[("u%d" % i, "{PLAIN}" + PASSWORD) for i in range(1, a.users + 1)],
                                    delay_ms=0)
        port = server.port
    elif a.port:
        port = a.port
    else:
        ap.error("--binary or --port")
    stats = Stats()
    try:
        setup(port, a.users, a.initial)
        t0 = time.time()
        ctl = {"end": t0 + a.seconds, "next_checkpoint": [t0 + a.checkpoint] * a.clients}
        barrier = threading.Barrier(a.clients, timeout=a.timeout * 2)
        clients = [Client(i, "u%d" % (i % a.users + 1), port, random.Random(a.seed * 1000 + i), stats, a,
                          barrier, ctl) for i in range(a.clients)]
        threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.time() - t0
        if server is not None and server.proc.poll() is not None:
            stats.add(stats.errors, "server exited during the run", "code %s" % server.proc.returncode)
    finally:
        if server:
            # Stopped first: the sanitizers' leak report comes at exit.
            if server.proc.poll() is None:
                server.proc.send_signal(test_server.signal.SIGTERM)
                try:
                    server.proc.wait(30)
                except test_server.subprocess.TimeoutExpired:
                    stats.add(stats.errors, "server did not stop on SIGTERM within 30 s", "")
            if server.proc.returncode not in (0, None):
                stats.add(stats.errors, "server exit code", str(server.proc.returncode))
            log = server.log_text()
            if a.keep_log:
                with open(a.keep_log, "w") as f:
                    f.write(log)
            for w in ("ERROR", "runtime error", "AddressSanitizer", "LeakSanitizer"):
                if w in log:
                    stats.add(stats.errors, "server log: " + w,
                              [l for l in log.splitlines() if w in l][0])
            server.stop()
    nerr = sum(e[0] for e in stats.errors.values())
    nexp = sum(e[0] for e in stats.expected.values())
    cmds = stats.checks.get("commands", 0)
    print("%d clients, %d users, %.0f s: %d sessions, %d commands (%.0f/s), %d errors, %d expected races"
          % (a.clients, a.users, dt, stats.checks.get("sessions", 0), cmds, cmds / dt, nerr, nexp))
    print("checked: " + ", ".join("%s %d" % (k, v) for k, v in sorted(stats.checks.items())
                                  if k not in ("commands", "sessions")))
    print("latency (IDLE includes its wait): " + ", ".join(
        "%s %d x %.0f ms avg, max %.0f ms" % (v, e[0], 1000 * e[1] / e[0], 1000 * e[2])
        for v, e in sorted(stats.latencies.items(), key=lambda kv: -kv[1][2])[:6]))
    for title, table in (("ERRORS", stats.errors), ("expected (races the RFCs allow)", stats.expected)):
        if table:
            print(title + ":")
            for kind, (n, ex) in sorted(table.items(), key=lambda kv: -kv[1][0]):
                print("  %6d  %s" % (n, kind))
                for e in ex:
                    print("          e.g. %s" % e)
    return 1 if nerr else 0


if __name__ == "__main__":
    sys.exit(main())
