"""End-to-end tests of keywords and response framing: long flag lists go
out whole (every byte a RawClient receives is checked by test_server's
FramingChecker), new keywords are announced with FLAGS and PERMANENTFLAGS
before a FETCH names them (RFC 3501 §7.2.6, §7.1), and the per-mailbox limit
is answered NO [LIMIT] (RFC 5530 §3). Run by test_server.py
(load_extension_tests)."""
import unittest

from test_server import WithServer, FramingChecker  # noqa: F401

SYSTEM = b"\\Answered \\Flagged \\Deleted \\Seen \\Draft"


def keywords(first, count, length):
    out = []
    for i in range(first, first + count):
        k = b"$K%d_" % i
        out.append(k + b"x" * (length - len(k)))
    return b" ".join(out)


def login(server):
    c = server.raw()
    c.line()
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


def say(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    return c.until_tagged(tag)


class FramingCheckerSelfTest(unittest.TestCase):
    def verdict(self, stream):
        for cut in range(len(stream) + 1):
            f = FramingChecker()
            try:
                f.feed(stream[:cut])
                f.feed(stream[cut:])
            except AssertionError as e:
                return str(e)
        return ""

    def test_wellformed_responses_pass_rfc3501_7(self):
        self.assertEqual(self.verdict(
            b"* OK [CAPABILITY IMAP4rev1] ready\r\n"
            b"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (From)] {13}\r\n(\"a\r\nb)]{3}\r\n"
            b" FLAGS (\\Seen))\r\nf OK done\r\n+ \r\n* LIST () \"/\" \"a\\\"b\"\r\n"
            b"a BAD text (with an open parenthesis\r\n"), "")

    def test_cut_or_merged_answers_fail_rfc3501_2_2_2(self):
        for bad, why in [(b"* 1 FETCH (FLAGS (\\Seen $a\r\n", "unbalanced"),
                         (b"* * * 1 EXISTS\r\n", "response name"),
                         (b"a OK done\n", "LF without CR"),
                         (b"a FETCH x\r\n", "not OK, NO or BAD"),
                         (b"* 1 FETCH (BODY[] {3}\r\nab)\r\na OK\r\n", "unbalanced")]:
            self.assertIn(why, self.verdict(bad), bad)


class Keywords(WithServer):
    def test_sixty_keywords_of_45_bytes_reach_two_sessions_whole_rfc3501_7_2_6(self):
        a = login(self.server)
        b = login(self.server)
        say(a, b"p", b"APPEND INBOX {1+}\r\nx")
        say(a, b"s", b"SELECT INBOX")
        say(b, b"s", b"SELECT INBOX")
        kws = keywords(0, 60, 45)
        flags = b"* FLAGS (" + SYSTEM + b" " + kws + b")"
        permanent = (b"* OK [PERMANENTFLAGS (" + SYSTEM + b" " + kws +
                     b" \\*)] Flags permitted")
        lines = say(a, b"t", b"STORE 1 +FLAGS (" + kws + b")")
        self.assertEqual(lines, [flags, permanent,
                                 b"* 1 FETCH (FLAGS (\\Recent " + kws + b"))",
                                 b"t OK STORE completed"])
        lines = say(b, b"n", b"NOOP")
        self.assertEqual(lines, [flags, permanent, b"* 1 FETCH (UID 1 FLAGS (" + kws + b"))",
                                 b"n OK NOOP completed"])
        lines = say(b, b"s", b"SELECT INBOX")
        self.assertIn(flags, lines)
        self.assertIn(b"* 1 EXISTS", lines)
        self.assertTrue(lines[-1].startswith(b"s OK [READ-WRITE]"))
        self.assertEqual(say(b, b"f", b"FETCH 1 FLAGS"),
                         [b"* 1 FETCH (FLAGS (" + kws + b"))", b"f OK FETCH completed"])

    def test_keyword_limit_is_no_limit_and_nothing_is_stored_rfc5530_3(self):
        a = login(self.server)
        say(a, b"p", b"APPEND INBOX {1+}\r\nx")
        say(a, b"s", b"SELECT INBOX")
        lines = say(a, b"t", b"STORE 1 +FLAGS (" + keywords(0, 64, 59) + b")")
        self.assertTrue(lines[-1].startswith(b"t OK"), lines[-1])
        self.assertIn(b")] No more keywords in this mailbox", b"\n".join(lines))
        self.assertEqual(say(a, b"u", b"STORE 1 +FLAGS (one-more)"),
                         [b"u NO [LIMIT] Too many keywords in this mailbox"])
        self.assertEqual(say(a, b"q", b"APPEND INBOX (new) {1+}\r\ny"),
                         [b"q NO [LIMIT] Too many keywords in this mailbox"])
        self.assertEqual(say(a, b"r", b"STATUS INBOX (MESSAGES)"),
                         [b"* STATUS INBOX (MESSAGES 1)", b"r OK STATUS completed"])
        self.assertEqual(say(a, b"v", b"STORE 1 +FLAGS (" + b"k" * 300 + b")"),
                         [b"v BAD Keyword too long: at most 59 bytes"])
