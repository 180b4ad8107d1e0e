"""Hostile MIME structure (issue 20.4): a message of ~100k sibling parts.

FETCH BODYSTRUCTURE walks the message in bounded steps (core/mime
StructureWriter, kMaxMimeParts parts at most) and streams the answer as the
socket drains, so a second client's NOOP is answered quickly meanwhile, the
first time and the second (the answer is too large for the cache, so it is
walked again). FETCH BODY[n] finds its part in bounded steps too (core/mime
SectionFinder), numbering the parts BODYSTRUCTURE shows: past them, NIL.
"""
import time

import test_server
from hostile_support import Bystander, login_raw

PARTS = 100_000
MAX_MIME_PARTS = 10_000  # core/mime/message_reader.h kMaxMimeParts


def many_parts_message():
    head = b"From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n" \
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    return head + b"--b\r\n\r\nx\r\n" * PARTS + b"--b--\r\n"


class ManyMimeParts(test_server.WithServer):
    def test_bodystructure_of_100k_parts_does_not_block_others(self):
        c = login_raw(self.server)
        msg = many_parts_message()
        c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        answers = []
        with Bystander(self.server) as bystander:
            for tag in (b"f1", b"f2"):
                start = time.monotonic()
                c.send(tag + b" FETCH 1 BODYSTRUCTURE\r\n")
                lines = c.until_tagged(tag)
                took = time.monotonic() - start
                self.assertTrue(lines[-1].startswith(tag + b" OK"), lines[-1][:200])
                answers.append(lines[0])
                print("\n  FETCH BODYSTRUCTURE: %.3f s, %d bytes" % (took, len(lines[0])))
        worst = bystander.worst
        print("  bystander NOOP: worst %.3f s over %d rounds" % (worst, bystander.rounds))
        self.assertIsNone(bystander.error)
        self.assertGreater(bystander.rounds, 0)
        self.assertLess(worst, 0.5 * test_server.SLOW)
        first = answers[0]
        self.assertEqual(first, answers[1])
        self.assertTrue(first.startswith(b"* 1 FETCH (BODYSTRUCTURE (("))
        self.assertEqual(first.count(b'("TEXT" "PLAIN"'), MAX_MIME_PARTS - 1)
        self.assertNotIn(b"OCTET-STREAM", first)
        self.assertEqual(first.count(b"("), first.count(b")"))

    def test_body_section_high_number_does_not_block_others(self):
        c = login_raw(self.server)
        msg = many_parts_message()
        c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        last = MAX_MIME_PARTS - 1  # the parts BODYSTRUCTURE shows (it is one)
        answers = {}
        with Bystander(self.server) as bystander:
            for n in (last - 1, last, last + 1, 50_000, 99_999):
                tag = b"f%d" % n
                start = time.monotonic()
                c.send(tag + b" FETCH 1 BODY.PEEK[%d]\r\n" % n)
                lines = c.until_tagged(tag)
                took = time.monotonic() - start
                self.assertTrue(lines[-1].startswith(tag + b" OK"), lines[-1][:200])
                answers[n] = b"\r\n".join(lines[:-1])
                print("\n  FETCH BODY[%d]: %.3f s, %d bytes" % (n, took, len(answers[n])), end="")
        worst = bystander.worst
        print("\n  bystander NOOP: worst %.3f s over %d rounds" % (worst, bystander.rounds))
        self.assertIsNone(bystander.error)
        self.assertGreater(bystander.rounds, 0)
        self.assertLess(worst, 0.5 * test_server.SLOW)
        self.assertEqual(answers[last - 1], b"* 1 FETCH (BODY[%d] {1}\r\nx)" % (last - 1))
        # The last part shown runs to the end of the message.
        rest = b"x" + b"\r\n--b\r\n\r\nx" * (PARTS - last) + b"\r\n--b--\r\n"
        self.assertEqual(answers[last],
                         b"* 1 FETCH (BODY[%d] {%d}\r\n" % (last, len(rest)) + rest + b")")
        for n in (last + 1, 50_000, 99_999):
            self.assertEqual(answers[n], b"* 1 FETCH (BODY[%d] NIL)" % n)
