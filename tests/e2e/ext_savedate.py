"""End-to-end tests of SAVEDATE (RFC 8514) with a raw client over loopback:
the save date is when the message was saved into the mailbox (the server's
clock, in UTC). Run by test_server.py (load_extension_tests)."""
import datetime
import re

from test_server import WithServer


def imap_day(t):
    return b"%d-%s-%d" % (t.day, t.strftime("%b").encode(), t.year)


class SaveDate(WithServer):
    def test_fetch_savedate_and_search_keys_rfc8514_4_2_4_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        c.send(b"c CAPABILITY\r\n")
        self.assertIn(b" SAVEDATE", c.until_tagged(b"c")[0])
        before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for d in (b"27-Dec-2014 10:00:00 +0000", b"28-Dec-2014 10:00:00 +0000"):
            msg = b"Subject: s\r\n\r\nb\r\n"
            c.send(b'p APPEND INBOX "' + d + b'" {%d+}\r\n' % len(msg) + msg + b"\r\n")
            self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        after = datetime.datetime.now(datetime.timezone.utc)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"A101 FETCH 2 (SAVEDATE INTERNALDATE)\r\n")
        lines = c.until_tagged(b"A101")
        self.assertEqual(lines[-1], b"A101 OK FETCH completed")
        m = re.match(rb'\* 2 FETCH \(SAVEDATE "([^"]+)" INTERNALDATE "28-Dec-2014 10:00:00 '
                     rb'\+0000"\)$', lines[0])
        self.assertIsNotNone(m, lines)
        saved = datetime.datetime.strptime(m.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")
        self.assertTrue(before <= saved <= after, (before, saved, after))
        # SAVED* keys use the save date (UTC day), not the internal date.
        c.send(b"A102 SEARCH OR SAVEDON " + imap_day(before) + b" SAVEDON " +
               imap_day(after) + b"\r\n")
        self.assertEqual(c.until_tagged(b"A102"), [b"* SEARCH 1 2", b"A102 OK SEARCH completed"])
        c.send(b"A103 SEARCH SAVEDON 28-Dec-2014\r\n")
        self.assertEqual(c.until_tagged(b"A103"), [b"* SEARCH", b"A103 OK SEARCH completed"])
        c.send(b"A104 SEARCH SAVEDBEFORE 1-Jan-2015\r\n")
        self.assertEqual(c.until_tagged(b"A104"), [b"* SEARCH", b"A104 OK SEARCH completed"])
        c.send(b"A105 SEARCH SAVEDATESUPPORTED\r\n")
        self.assertEqual(c.until_tagged(b"A105"), [b"* SEARCH 1 2", b"A105 OK SEARCH completed"])
