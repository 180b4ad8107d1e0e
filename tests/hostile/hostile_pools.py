"""Issue 13's shared pools under attack (docs/CONFIG.md command_buffers).

A command borrows one of `command_buffers` blocks while it is read and
answered. Clients that trickle partial lines hold none (a block is taken
only for a whole line, or 1 KiB of one); clients stalled inside a literal
hold theirs, and the others keep working on the blocks left. A command that
had to wait for a block is answered whole once one is back.
"""
import time

import hostile_support
import test_server


class CommandPoolAttacks(test_server.WithServer):
    server_args = {"extra": ("--command-buffers=4", "--max-clients=24",
                             "--max-clients-per-address=24")}

    def test_partial_lines_hold_no_block_rfc3501_2_2_1(self):
        # Ten clients send half a command and stop: every block stays free.
        slow = [hostile_support.login_raw(self.server) for _ in range(10)]
        for i, c in enumerate(slow):
            c.send(b"t%d NO" % i)
        with hostile_support.Bystander(self.server) as b:
            time.sleep(1.0)
        self.assertIsNone(b.error)
        self.assertGreater(b.rounds, 5)
        self.assertLess(b.worst, 1.0 * test_server.SLOW)
        for i, c in enumerate(slow):
            c.send(b"OP\r\n")
            self.assertTrue(c.until_tagged(b"t%d" % i)[-1].startswith(b"t%d OK" % i))

    def test_stalled_literals_keep_their_blocks_others_wait_whole_rfc3501_7_5(self):
        waiter = hostile_support.login_raw(self.server)
        # Three clients stop inside a literal: one block is left for the rest.
        held = []
        for i in range(3):
            c = hostile_support.login_raw(self.server)
            c.send(b"s%d STATUS {5}\r\n" % i)
            self.assertEqual(c.line(), b"+ Ready for literal data")
            held.append(c)
        with hostile_support.Bystander(self.server) as b:
            time.sleep(1.0)
        self.assertIsNone(b.error)
        self.assertLess(b.worst, 1.0 * test_server.SLOW)
        # The fourth takes the last block: a new command waits, unanswered...
        c = hostile_support.login_raw(self.server)
        c.send(b"s3 STATUS {5}\r\n")
        self.assertEqual(c.line(), b"+ Ready for literal data")
        held.append(c)
        waiter.send(b"x NOOP\r\n")
        waiter.sock.settimeout(0.5)
        with self.assertRaises(OSError):  # socket.timeout: nothing yet
            waiter.sock.recv(1)
        waiter.sock.settimeout(20 * test_server.SLOW)
        # ... and is answered, whole, once the literals end.
        for i, c in enumerate(held):
            c.send(b"INBOX (MESSAGES)\r\n")
            lines = c.until_tagged(b"s%d" % i)
            self.assertTrue(lines[-1].startswith(b"s%d OK" % i), lines)
            self.assertTrue(lines[0].startswith(b"* STATUS INBOX (MESSAGES "), lines)
        self.assertEqual(waiter.until_tagged(b"x"), [b"x OK NOOP completed"])
