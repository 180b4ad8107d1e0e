"""End-to-end tests of ESORT (RFC 5267 §3) and PARTIAL (RFC 5267 §4.4)
with a raw client over loopback and Python's imaplib. Run by
test_server.py (load_extension_tests)."""
import test_server
from test_server import WithServer


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


def fill(c, count):
    # Subjects sort in the reverse of arrival: m(count) first.
    for i in range(1, count + 1):
        msg = b"Subject: m%05d\r\n\r\nbody\r\n" % (count + 1 - i)
        c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        c.until_tagged(b"p")
    c.send(b"s SELECT INBOX\r\n")
    c.until_tagged(b"s")


class ESort(WithServer):
    def test_capability_rfc5267_3_1(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("ESORT", m.capabilities)
        m.logout()

    def test_sort_return_in_sort_order_rfc5267_3_1_3_2(self):
        c = login_raw(self.server)
        fill(c, 5)
        c.send(b"e1 SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"e1"), [
            b'* ESEARCH (TAG "e1") MIN 5 MAX 1 COUNT 5 ALL 5,4,3,2,1',
            b"e1 OK SORT completed"])
        c.send(b"e2 UID SORT RETURN () (ARRIVAL) UTF-8 2:4\r\n")
        self.assertEqual(c.until_tagged(b"e2"), [
            b'* ESEARCH (TAG "e2") UID ALL 2:4', b"e2 OK SORT completed"])
        c.send(b"e3 SORT RETURN (PARTIAL 2:3) (SUBJECT) UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"e3"), [
            b'* ESEARCH (TAG "e3") PARTIAL (2:3 4,3)', b"e3 OK SORT completed"])
        c.close()

    def test_long_answers_stream_rfc5267_4_4(self):
        c = login_raw(self.server)
        fill(c, 400)
        c.send(b"e1 SORT RETURN (COUNT ALL) (SUBJECT) UTF-8 ALL\r\n")
        expected = b",".join(b"%d" % i for i in range(400, 0, -1))
        self.assertEqual(c.until_tagged(b"e1"), [
            b'* ESEARCH (TAG "e1") COUNT 400 ALL ' + expected, b"e1 OK SORT completed"])
        c.send(b"e2 SEARCH RETURN (PARTIAL 101:300) ALL\r\n")
        self.assertEqual(c.until_tagged(b"e2"), [
            b'* ESEARCH (TAG "e2") PARTIAL (101:300 101:300)', b"e2 OK SEARCH completed"])
        c.send(b"e3 SEARCH RETURN (PARTIAL 399:500 SAVE) ALL\r\ne4 FETCH $ (UID)\r\n")
        self.assertEqual(c.until_tagged(b"e3"), [
            b'* ESEARCH (TAG "e3") PARTIAL (399:500 399:400)', b"e3 OK SEARCH completed"])
        self.assertEqual(c.until_tagged(b"e4"), [
            b"* 399 FETCH (UID 399)", b"* 400 FETCH (UID 400)", b"e4 OK FETCH completed"])
        c.close()

    def test_errors_rfc5267_5(self):
        c = login_raw(self.server)
        fill(c, 2)
        for cmd in (b"SORT RETURN (ALL PARTIAL 1:2) (SUBJECT) UTF-8 ALL",
                    b"SEARCH RETURN (PARTIAL 0:5) ALL",
                    b"SEARCH RETURN (PARTIAL 1:*) ALL",
                    b"THREAD RETURN (ALL) REFERENCES UTF-8 ALL"):
            c.send(b"b " + cmd + b"\r\n")
            reply = c.until_tagged(b"b")
            self.assertEqual(len(reply), 1, reply)
            self.assertTrue(reply[0].startswith(b"b BAD "), reply)
        c.close()


if __name__ == "__main__":
    test_server.main()
