"""SIGTERM is honoured within a second whatever the server is doing (issue
20): here, in the middle of a large FETCH 1:* BODY[] to a client that reads
none of it, so the answer fills every buffer and the job waits for room.
"""
import time

import hostile_support
import test_server

MESSAGE = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 2000  # 2 MB
COUNT = 8


class Sigterm(test_server.WithServer):
    def test_sigterm_during_fetch_to_a_client_that_does_not_read(self):
        c = hostile_support.login_raw(self.server)
        for i in range(COUNT):
            c.send(b"p%d APPEND INBOX {%d+}\r\n" % (i, len(MESSAGE)) + MESSAGE + b"\r\n")
            self.assertTrue(c.until_tagged(b"p%d" % i)[-1].startswith(b"p%d OK" % i))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        with hostile_support.Bystander(self.server) as b:
            c.send(b"f FETCH 1:* BODY[]\r\n")  # never read
            time.sleep(0.5 * test_server.SLOW)  # the answer fills the buffers
            self.assertLess(b.worst, 1.0 * test_server.SLOW)
        seconds = hostile_support.sigterm_seconds(self.server)
        self.assertLess(seconds, 1.0 * test_server.SLOW)
        self.assertEqual(self.server.proc.returncode, 0)
