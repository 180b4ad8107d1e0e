"""A mass expunge must not freeze the other clients or end them (issue 20.3):
20 000 messages made from one small APPEND by COPY doubling, all flagged
\\Deleted by one STORE, then one EXPUNGE, while a bystander's NOOP is timed
and another session that has the mailbox selected lags behind (it must learn
every expunge, not get BYE). Then SIGTERM in the middle of the next mass
expunge (and the compaction after it) must end the server within a second.
"""
import time

import hostile_support
import test_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: grow\r\n" \
          b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\n" \
          b"A small message that COPY doubles.\r\n"
COUNT = 20000


def sanitized():
    """ASan+UBSan builds run several times slower."""
    with open(test_server.BINARY, "rb") as f:
        return b"__asan_init" in f.read()


def ok(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    lines = c.until_tagged(tag)
    assert lines[-1].startswith(tag + b" OK"), lines[-3:]
    return lines


def fill(c, count):
    """INBOX with `count` messages: one APPEND, then COPY 1:n INBOX."""
    c.send(b"p APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE + b"\r\n")
    assert c.until_tagged(b"p")[-1].startswith(b"p OK")
    ok(c, b"s", b"SELECT INBOX")
    have = 1
    while have < count:
        take = have if have * 2 <= count else count - have
        ok(c, b"c", b"COPY 1:%d INBOX" % take)
        have += take


class MassExpunge(test_server.WithServer):
    def test_mass_expunge_keeps_bystander_answered_and_lagging_session_connected(self):
        scale = test_server.SLOW * (4 if sanitized() else 1)
        c = hostile_support.login_raw(self.server)
        fill(c, COUNT)
        lag = hostile_support.login_raw(self.server)
        lines = ok(lag, b"s", b"SELECT INBOX")
        self.assertIn(b"* %d EXISTS" % COUNT, lines)
        with hostile_support.Bystander(self.server) as b:
            start = time.monotonic()
            ok(c, b"d", b"STORE 1:* +FLAGS.SILENT (\\Deleted)")
            lines = ok(c, b"e", b"EXPUNGE")
            seconds = time.monotonic() - start
        self.assertEqual(sum(1 for x in lines if x.endswith(b" EXPUNGE")), COUNT)
        print("\n  STORE+EXPUNGE of %d: %.2f s; bystander worst NOOP %.3f s over %d rounds"
              % (COUNT, seconds, b.worst, b.rounds))
        self.assertIsNone(b.error)
        self.assertGreater(b.rounds, 0)
        self.assertLess(b.worst, 0.5 * scale)
        # The session that lagged behind learns all of it, no BYE.
        lines = ok(lag, b"n", b"NOOP")
        self.assertEqual(lines[0], b"* %d EXPUNGE" % COUNT)
        self.assertEqual(sum(1 for x in lines if x.endswith(b" EXPUNGE")), COUNT)
        self.assertFalse(any(x.startswith(b"* BYE") for x in lines))
        lines = ok(c, b"t", b"STATUS INBOX (MESSAGES)")
        self.assertIn(b"* STATUS INBOX (MESSAGES 0)", lines)

    def test_sigterm_during_a_mass_expunge_ends_the_server_within_a_second(self):
        c = hostile_support.login_raw(self.server)
        fill(c, COUNT)
        ok(c, b"d", b"STORE 1:* +FLAGS.SILENT (\\Deleted)")
        c.send(b"e EXPUNGE\r\n")
        c.line()  # under way
        seconds = hostile_support.sigterm_seconds(self.server)
        print("\n  exit after SIGTERM during EXPUNGE: %.3f s" % seconds)
        self.assertLess(seconds, 1.0 * test_server.SLOW)
        self.assertEqual(self.server.proc.returncode, 0)
