"""End-to-end tests of the MIME answers (issue 12 item 6, issue 20 items
4-6) and of pipelined commands behind large answers. Run by test_server.py
(load_extension_tests)."""
import socket

from test_server import WithServer, SLOW  # noqa: F401


def digest(messages):
    m = (b"From: list@example.org\r\nSubject: digest\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/digest; boundary=\"d\"\r\n\r\n")
    for i in range(messages):
        m += (b"--d\r\n\r\nFrom: Poster %d <p%d@example.org>\r\nTo: list@example.org\r\n"
              b"Cc: Someone Else <else@example.org>\r\n"
              b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
              b"Subject: Re: the discussion of topic %d\r\nMessage-ID: <%d@example.org>\r\n"
              b"\r\nA short message.\r\n\r\n" % (i, i, i, i))
    return m + b"--d--\r\n"


class MimeAnswers(WithServer):
    def test_pipelined_commands_behind_answers_larger_than_the_output_rfc3501_5_5(self):
        # RFC 3501 §5.5: a client may send commands without waiting. Here all
        # are sent at once; their answers (a 40-message digest's structure is
        # larger than the 16 KiB output buffer) fill the output while the
        # commands wait in the input buffer with nothing more coming from the
        # socket: every one must still be answered.
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10 * SLOW)
        self.server.clients.append(s)
        m = digest(40)
        script = b"l LOGIN alice wonderland\r\n"
        script += b"a APPEND INBOX {%d+}\r\n" % len(m) + m + b"\r\n"
        script += b"s SELECT INBOX\r\n"
        for i in range(12):
            script += b"f%d FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)\r\n" % i
        script += b"z LOGOUT\r\n"
        s.sendall(script)
        out = b""
        while b"\r\nz OK" not in out:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            out += chunk
        self.assertIn(b"\r\nz OK", out)
        for i in range(12):
            self.assertIn(b"\r\nf%d OK FETCH completed\r\n" % i, out)
        self.assertEqual(out.count(b'("MESSAGE" "RFC822" '), 12 * 2 * 40)
        self.assertNotIn(b"OCTET-STREAM", out)

    def test_pipelined_short_commands_whose_answers_fill_the_output_rfc3501_5_5(self):
        # Commands answered at once, each with a little output: the input
        # buffer holds more of them than the output has room to answer, and
        # the client has sent everything. The rest must be taken as soon as
        # the output drained, not left waiting for a socket event.
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5 * SLOW)
        self.server.clients.append(s)
        m = (b"From: Fred Foobar <foobar@example.org>\r\nSubject: afternoon meeting\r\n"
             b"To: a@example.org, b@example.org, c@example.org, d@example.org\r\n"
             b"Cc: Someone Else <else@example.org>\r\nMessage-ID: <m@example.org>\r\n"
             b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n")
        s.sendall(b"l LOGIN alice wonderland\r\na APPEND INBOX {%d+}\r\n" % len(m) + m +
                  b"\r\ns SELECT INBOX\r\n")
        out = b""
        while b"\r\ns OK" not in out:
            out += s.recv(1 << 20)
        for rounds in range(3):
            script = b"".join(b"f%d FETCH 1 ENVELOPE\r\n" % i for i in range(400))
            s.sendall(script + b"z NOOP\r\n")
            out = b""
            while b"\r\nz OK" not in out:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                out += chunk
            self.assertEqual(out.count(b" OK FETCH completed\r\n"), 400)
