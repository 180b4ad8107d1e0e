#!/usr/bin/env python3
"""Hostile-input suite: the real tinyimapd binary on loopback, attacked the
way a malicious or merely careless client would (issue 20), with a bystander
client whose NOOP round trip is timed during each attack.

Usage: run.py --binary PATH [--emulator "..."] [unittest args]

Reuses the e2e harness (tests/e2e/test_server.py: Server, RawClient,
WithServer) and adds the test classes of every tests/hostile/hostile_*.py
(one file per attack class). Run by ctest as `hostile`, on the host and
under ASan+UBSan.
"""
import argparse
import importlib
import os
import shlex
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)

import test_server  # noqa: E402


def load_tests_from_here():
    found = {}
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("hostile_") and name.endswith(".py")):
            continue
        module = importlib.import_module(name[:-3])
        for attr, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, unittest.TestCase)
                    and obj.__module__ == module.__name__):
                found[attr] = obj
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--emulator", default="")
    args, rest = p.parse_known_args()
    test_server.BINARY = os.path.abspath(args.binary)
    test_server.EMULATOR = shlex.split(args.emulator.replace(";", " "))
    if test_server.EMULATOR:
        test_server.SLOW = 3.0
    globals().update(load_tests_from_here())
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
