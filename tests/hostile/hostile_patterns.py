"""Hostile LIST/LSUB patterns (issue 20, item 1): a pattern such as
"*a*a*a*a*a*a*a*b" against a long mailbox name of 'a's made the old
backtracking matcher run for minutes in one turn of the loop, freezing every
client and SIGTERM. RFC 3501 §6.3.8 (LIST), §6.3.9 (LSUB).
"""
import time

import test_server
from test_server import WithServer
from hostile_support import Bystander, login_raw, sigterm_seconds

LONG_NAME = b"a" * 120
LIST_PATTERN = b"*a*a*a*a*a*a*a*b"  # seven "*a": more than 571 s before the fix
LSUB_PATTERN = b"%a%a%a%a%a%a%ab"


def slowness():
    """Time budgets grow under qemu (test_server.SLOW) and under ASan."""
    factor = test_server.SLOW
    try:
        with open(test_server.BINARY, "rb") as f:
            if b"__asan_init" in f.read():
                factor *= 3
    except OSError:
        pass
    return factor


class HostilePatterns(WithServer):
    def timed(self, client, tag, command):
        start = time.monotonic()
        client.send(tag + b" " + command + b"\r\n")
        lines = client.until_tagged(tag)
        return time.monotonic() - start, lines

    def check_attack(self, setup, command):
        f = slowness()
        c = login_raw(self.server)
        for i, line in enumerate(setup):
            tag = b"s%d" % i
            c.send(tag + b" " + line + b"\r\n")
            self.assertTrue(c.until_tagged(tag)[-1].startswith(tag + b" OK"))
        with Bystander(self.server) as bystander:
            time.sleep(0.2)
            took, lines = self.timed(c, b"x", command)
            time.sleep(0.2)
        self.assertTrue(lines[-1].startswith(b"x OK"), lines)
        self.assertLess(took, 1.0 * f, "the pattern took %.2f s" % took)
        self.assertIsNone(bystander.error)
        self.assertGreater(bystander.rounds, 0)
        self.assertLess(bystander.worst, 0.5 * f,
                        "the bystander waited %.2f s" % bystander.worst)

    def test_list_hostile_pattern_answers_at_once_rfc3501_6_3_8(self):
        self.check_attack([b"CREATE " + LONG_NAME], b'LIST "" "' + LIST_PATTERN + b'"')

    def test_lsub_hostile_pattern_answers_at_once_rfc3501_6_3_9(self):
        # No CREATE needed: subscribing a name that does not exist is allowed.
        self.check_attack([b"SUBSCRIBE " + LONG_NAME], b'LSUB "" "' + LSUB_PATTERN + b'"')

    def test_sigterm_during_hostile_lists_exits_at_once(self):
        f = slowness()
        c = login_raw(self.server)
        c.send(b"s CREATE " + LONG_NAME + b"\r\n")
        c.until_tagged(b"s")
        c.send(b"s2 SUBSCRIBE " + LONG_NAME + b"\r\n")
        c.until_tagged(b"s2")
        # Pipelined, so that the server is busy with them when SIGTERM comes.
        burst = b"".join(b'l%d LIST "" "%s"\r\nm%d LSUB "" "%s"\r\n' %
                         (i, LIST_PATTERN, i, LSUB_PATTERN) for i in range(20))
        c.send(burst)
        took = sigterm_seconds(self.server)
        self.assertLess(took, 1.0 * f, "exit took %.2f s after SIGTERM" % took)
