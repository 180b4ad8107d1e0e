"""Over-long lines where the server reads raw lines (issue 20 item 9): while
IDLE waits for DONE (RFC 2177 §3) and while AUTHENTICATE waits for the
client's response (RFC 3501 §6.2.2). The command must end with a tagged BAD
and the connection must go on taking commands; the bystander is not held up.
"""
import hostile_support
import test_server

TOO_LONG = 70000  # well past max_line_length (8192 by default)


class RawLines(test_server.WithServer):
    def test_overlong_line_in_idle_gets_tagged_bad_rfc2177_3(self):
        c = hostile_support.login_raw(self.server)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"i IDLE\r\n")
        self.assertTrue(c.line().startswith(b"+"))
        with hostile_support.Bystander(self.server) as b:
            c.send(b"x" * TOO_LONG + b" {5+}\r\n")
            lines = c.until_tagged(b"i")
        self.assertTrue(lines[-1].startswith(b"i BAD [TOOBIG]"), lines)
        c.send(b"n NOOP\r\n")
        self.assertEqual(c.until_tagged(b"n")[-1], b"n OK NOOP completed")
        self.assertIsNone(b.error)
        self.assertLess(b.worst, 1.0 * test_server.SLOW)

    def test_overlong_authenticate_response_cancels_rfc3501_6_2_2(self):
        c = self.server.raw()
        c.line()
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        self.assertTrue(c.line().startswith(b"+"))
        c.send(b"A" * TOO_LONG + b"\r\n")
        lines = c.until_tagged(b"a")
        self.assertTrue(lines[-1].startswith(b"a BAD [TOOBIG]"), lines)
        c.send(b"b LOGIN alice wonderland\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b OK"))
