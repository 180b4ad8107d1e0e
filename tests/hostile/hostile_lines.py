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


def largest_id(tag, literal=b""):
    """RFC 2971 §3.3's largest ID: 30 pairs, 30-octet fields, 1024-octet
    values; literal b"+" or b"" sends the values as literals, None quoted."""
    parts = []
    for i in range(30):
        field = (b"field%d" % i).ljust(30, b"f")
        value = b"v" * 1024
        if literal is None:
            parts.append(b'"%s" "%s"' % (field, value))
        else:
            parts.append(b'"%s" {1024%s}\r\n%s' % (field, literal, value))
    return tag + b" ID (" + b" ".join(parts) + b")\r\n"


class LongId(test_server.WithServer):
    def test_largest_id_quoted_and_as_literals_rfc2971_3_3(self):
        c = self.server.raw()
        c.line()
        c.send(largest_id(b"q", None))
        self.assertEqual(c.until_tagged(b"q")[-1], b"q OK ID completed")
        c.send(largest_id(b"p", b"+"))
        self.assertEqual(c.until_tagged(b"p")[-1], b"p OK ID completed")
        # Synchronizing literals, waiting for each "+" like imaplib does.
        chunks = largest_id(b"s", b"").split(b"}\r\n")
        for chunk in chunks[:-1]:
            c.send(chunk + b"}\r\n")
            self.assertTrue(c.line().startswith(b"+ "))
        c.send(chunks[-1])
        self.assertEqual(c.until_tagged(b"s")[-1], b"s OK ID completed")

    def test_overlong_id_gets_tagged_bad_and_connection_stays(self):
        c = self.server.raw()
        c.line()
        c.send(b"t ID (" + b" ".join([b'"f" "' + b"v" * 1000 + b'"'] * 80) + b")\r\n")
        self.assertTrue(c.until_tagged(b"t")[-1].startswith(b"t BAD"))
        c.send(b"n NOOP\r\n")
        self.assertEqual(c.until_tagged(b"n")[-1], b"n OK NOOP completed")
