"""Hostile keywords (issues 12.3, 12.4, 20.10): a client fills a mailbox's
keyword table with the longest names the store keeps and has them reported
to another client; every byte either client receives is checked for IMAP
framing by RawClient (tests/e2e/test_server.py FramingChecker), and the
server stays responsive to a bystander."""
import test_server
from hostile_support import Bystander, login_raw

SYSTEM = b"\\Answered \\Flagged \\Deleted \\Seen \\Draft"


def longest_keywords(count=64, length=59):
    out = []
    for i in range(count):
        k = b"$K%d_" % i
        out.append(k + b"x" * (length - len(k)))
    return b" ".join(out)


def say(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    return c.until_tagged(tag)


def fill(c, messages):
    for start in range(0, messages, 50):
        batch = b"".join(b"p%d APPEND INBOX {1+}\r\nx\r\n" % (start + i)
                         for i in range(min(50, messages - start)))
        c.send(batch)
        for i in range(min(50, messages - start)):
            c.until_tagged(b"p%d" % (start + i))


class HostileKeywords(test_server.WithServer):
    def test_full_keyword_table_reported_whole_to_another_client_rfc3501_7_2_6(self):
        attacker = login_raw(self.server)
        victim = login_raw(self.server)
        fill(attacker, 300)
        say(attacker, b"s", b"SELECT INBOX")
        say(victim, b"s", b"SELECT INBOX")
        kws = longest_keywords()
        with Bystander(self.server) as b:
            lines = say(attacker, b"t", b"STORE 1:* +FLAGS (" + kws + b")")
            self.assertEqual(lines[-1], b"t OK STORE completed")
            self.assertIn(b"* OK [PERMANENTFLAGS (" + SYSTEM + b" " + kws +
                          b")] No more keywords in this mailbox", lines)
            # 300 lines of about 4 KB: the victim's report, whole and in order.
            lines = say(victim, b"n", b"NOOP")
            self.assertEqual(lines[0], b"* FLAGS (" + SYSTEM + b" " + kws + b")")
            self.assertEqual(sum(1 for l in lines if b" FETCH (UID " in l), 300)
            self.assertEqual(lines[-1], b"n OK NOOP completed")
            self.assertEqual(say(attacker, b"u", b"STORE 1 +FLAGS (one-more)"),
                             [b"u NO [LIMIT] Too many keywords in this mailbox"])
            self.assertEqual(say(attacker, b"v", b"STORE 1 +FLAGS (" + b"k" * 300 + b")"),
                             [b"v BAD Keyword too long: at most 59 bytes"])
        self.assertIsNone(b.error)
        self.assertLess(b.worst, 3.0 * test_server.SLOW)
