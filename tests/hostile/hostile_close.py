"""A session the server ends while the client is still sending (issue 12
item 6): the server's lingering close (core/server/server.cpp) shuts down its side
and reads and discards the client's input for a while, so the client reads
the "* BYE" and then a clean end of stream, never a TCP reset (which Linux
sends when a socket is closed with unread input, and which can destroy
output still in flight: RFC 2525 §2.17).
"""
import test_server


class LingeringClose(test_server.WithServer):
    def test_client_still_sending_reads_the_bye_then_eof_rfc3501_7_1_5(self):
        c = self.server.raw()
        c.line()
        # Three failed logins end the session; far more is pipelined behind
        # them than the server reads before its BYE (it waits in the kernel).
        junk = b"".join(b"n%d NOOP\r\n" % i for i in range(20000))
        c.send(b"a LOGIN alice x\r\nb LOGIN alice x\r\nc LOGIN alice x\r\n" + junk)
        c.sock.settimeout(20 * test_server.SLOW)
        lines = []
        while not any(line.startswith(b"* BYE") for line in lines):
            lines.append(c.line())
        self.assertEqual(lines[-2], b"c NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(lines[-1], b"* BYE Too many failed login attempts")
        # Then the end of the stream, not ECONNRESET.
        self.assertTrue(c.closed())
        self.assertEqual(c.buf, b"")
