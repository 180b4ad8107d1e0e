"""End-to-end tests of SAVEDATE (RFC 8514) with a raw client over loopback.
The store keeps no save date, so this is the RFC's storage "that does not
support the save date attribute" (§4.2, §4.3). Run by test_server.py
(load_extension_tests)."""
from test_server import WithServer


class SaveDate(WithServer):
    def test_fetch_savedate_nil_and_search_keys_rfc8514_4_2_4_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        c.send(b"c CAPABILITY\r\n")
        self.assertIn(b" SAVEDATE", c.until_tagged(b"c")[0])
        for d in (b"27-Dec-2014 10:00:00 +0000", b"28-Dec-2014 10:00:00 +0000"):
            msg = b"Subject: s\r\n\r\nb\r\n"
            c.send(b'p APPEND INBOX "' + d + b'" {%d+}\r\n' % len(msg) + msg + b"\r\n")
            self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"A101 FETCH 2 (SAVEDATE)\r\n")
        self.assertEqual(c.until_tagged(b"A101"), [b"* 2 FETCH (SAVEDATE NIL)",
                                                    b"A101 OK FETCH completed"])
        c.send(b"A102 SEARCH SAVEDON 28-Dec-2014\r\n")
        self.assertEqual(c.until_tagged(b"A102"), [b"* SEARCH 2", b"A102 OK SEARCH completed"])
        c.send(b"A103 SEARCH SAVEDSINCE 27-Dec-2014 SAVEDBEFORE 28-Dec-2014\r\n")
        self.assertEqual(c.until_tagged(b"A103"), [b"* SEARCH 1", b"A103 OK SEARCH completed"])
        c.send(b"A104 SEARCH SAVEDATESUPPORTED\r\n")
        self.assertEqual(c.until_tagged(b"A104"), [b"* SEARCH", b"A104 OK SEARCH completed"])
