"""End-to-end tests of SORT and THREAD (RFC 5256) and SORT=DISPLAY (RFC 5957)
through Python's imaplib (sort(), thread(), uid()) and raw commands. Run by
test_server.py (load_extension_tests)."""
import test_server
from test_server import WithServer

MESSAGES = [
    # (internal date, message)
    ('"05-Jan-2020 00:00:00 +0000"',
     b"From: Zed <bob@x.org>\r\nTo: carol@x.org\r\nCc: Dan <dan@x.org>\r\n"
     b"Subject: Re: apple\r\nMessage-ID: <a@x>\r\n"
     b"Date: Sun, 2 Feb 2020 10:00:00 +0000\r\n\r\nbody one\r\n"),
    ('"04-Jan-2020 00:00:00 +0000"',
     b"From: alice@x.org\r\nTo: \"Alpha\" <zoe@x.org>\r\nSubject: Banana\r\n"
     b"Message-ID: <b@x>\r\nReferences: <a@x>\r\n"
     b"Date: Sat, 1 Feb 2020 23:00:00 -0200\r\n\r\nbody two, a little longer than the others\r\n"),
    ('"01-Jan-2020 00:00:00 +0000"',
     b"From: Bob <BOB@x.org>\r\nSubject: [Fwd: APPLE]\r\n\r\nb\r\n"),
    ('"03-Jan-2020 00:00:00 +0000"',
     b"From: =?utf-8?q?=C3=89mile?= <emile@x.org>\r\nTo: bob@x.org\r\nSubject: cherry\r\n"
     b"Message-ID: <d@x>\r\nIn-Reply-To: <b@x>\r\n"
     b"Date: Mon, 3 Feb 2020 00:00:00 +0000\r\n\r\nbody four is longest of all of these\r\n"),
]


class Sort(WithServer):
    def setUp(self):
        super().setUp()
        self.m = self.server.imap()
        self.m.login("alice", "wonderland")
        for date, msg in MESSAGES:
            typ, _ = self.m.append("INBOX", None, date, msg)
            self.assertEqual(typ, "OK")
        self.m.select("INBOX")

    def tearDown(self):
        self.m.logout()
        super().tearDown()

    def sort(self, keys, *criteria):
        typ, data = self.m.sort(keys, "UTF-8", *(criteria or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return data[0].decode()

    def test_capabilities_rfc5256_rfc5957(self):
        for cap in ("SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"):
            self.assertIn(cap, self.m.capabilities)

    def test_every_key_rfc5256_base_6_4_sort(self):
        self.assertEqual(self.sort("(ARRIVAL)"), "3 4 2 1")
        self.assertEqual(self.sort("(DATE)"), "3 2 1 4")
        self.assertEqual(self.sort("(SUBJECT)"), "1 3 2 4")
        self.assertEqual(self.sort("(FROM)"), "2 1 3 4")
        self.assertEqual(self.sort("(TO)"), "3 4 1 2")
        self.assertEqual(self.sort("(CC)"), "2 3 4 1")
        sizes = sorted((len(m), i + 1) for i, (_, m) in enumerate(MESSAGES))
        self.assertEqual(self.sort("(SIZE)"), " ".join(str(i) for _, i in sizes))
        self.assertEqual(self.sort("(REVERSE SUBJECT)"), "4 2 1 3")
        self.assertEqual(self.sort("(FROM REVERSE DATE)"), "2 1 3 4")
        self.assertEqual(self.sort("(SUBJECT)", "NOT", "FROM", "alice"), "1 3 4")

    def test_display_keys_rfc5957_4(self):
        self.assertEqual(self.sort("(DISPLAYFROM)"), "2 3 4 1")
        self.assertEqual(self.sort("(DISPLAYTO)"), "3 2 4 1")

    def test_uid_sort_and_thread_rfc5256(self):
        self.m.store("1", "+FLAGS", "(\\Deleted)")
        self.m.expunge()
        typ, data = self.m.uid("SORT", "(ARRIVAL)", "UTF-8", "ALL")
        self.assertEqual((typ, data), ("OK", [b"3 4 2"]))
        typ, data = self.m.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual((typ, data), ("OK", [b"(3)(2)(4)"]))

    def test_thread_rfc5256_base_6_4_thread(self):
        typ, data = self.m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual((typ, data), ("OK", [b"(3 1)(2)(4)"]))
        # 2 refers to 1 and 4 replies to 2; 3 has no links but 1's base
        # subject, and both are replies or forwards: step 5 (C) puts them
        # under a dummy, in sent-date order.
        typ, data = self.m.thread("REFERENCES", "UTF-8", "ALL")
        self.assertEqual((typ, data), ("OK", [b"((3)(1 2 4))"]))

    def test_errors_rfc5256_rfc5530(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        c.send(b"s SORT (DATE) UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"s")[-1], b"s BAD No mailbox selected")
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"s SORT (DATE) KOI8-R ALL\r\n")
        self.assertEqual(c.until_tagged(b"s")[-1],
                         b"s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset: KOI8-R")
        c.send(b"s SORT (WHATEVER) UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"s")[-1], b"s BAD Unknown sort key: WHATEVER")
        c.send(b"s THREAD NONSUCH UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"s")[-1],
                         b"s NO [CANNOT] Unknown threading algorithm: NONSUCH")
        c.send(b"s SORT (REVERSE ARRIVAL) US-ASCII 1:2\r\n")
        self.assertEqual(c.until_tagged(b"s"), [b"* SORT 1 2", b"s OK SORT completed"])
        c.close()


if __name__ == "__main__":
    test_server.main()
