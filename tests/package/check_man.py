#!/usr/bin/env python3
"""The man pages against the program, so that they never drift.

tinyimapd.conf(5) must list every configuration key, in the order of the one
table of keys (core/config.cpp kKeys, which `tinyimapd --check-config` prints
in order), each with "Default: \\fBvalue\\fR" equal to the built-in default
(or "Default: empty."). tinyimapd(8) must name every subcommand and exit code
that `tinyimapd --help` lists. Both must render without warnings under
`groff -ww -man -z` and `mandoc -T lint -W warning` (when installed).

  check_man.py --binary build/host/platforms/posix/tinyimapd --man docs/man
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def fail(msg):
    print(f"check_man: FAIL: {msg}")
    return 1


def effective_defaults(binary):
    out = subprocess.run([binary, "--check-config"], check=True, capture_output=True,
                         text=True).stdout
    keys, values = [], {}
    for line in out.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" = ")
        if key not in values:  # a repeatable key: its first value
            keys.append(key)
            values[key] = value
    return keys, values


def man_entries(text, section):
    """(key, entry text) for each .TP/.B entry of a .SH section."""
    m = re.search(r"^\.SH " + section + r"\n(.*?)(?=^\.SH |\Z)", text, re.M | re.S)
    if not m:
        return []
    entries = []
    for part in re.split(r"^\.TP\n", m.group(1), flags=re.M)[1:]:
        first, _, rest = part.partition("\n")
        entries.append((re.sub(r"^\.BR? ", "", first).split()[0], rest))
    return entries


def check_conf5(binary, path):
    errors = 0
    keys, defaults = effective_defaults(binary)
    entries = man_entries(open(path).read(), "KEYS")
    listed = [k for k, _ in entries]
    if listed != keys:
        missing = [k for k in keys if k not in listed]
        extra = [k for k in listed if k not in keys]
        errors += fail(f"{path}: KEYS differ from --check-config: missing {missing}, "
                       f"unknown {extra}" + ("" if missing or extra else ", order differs"))
    checked = 0
    for key, body in entries:
        if key not in defaults:
            continue
        m = re.search(r"Default: (?:\\fB(.*?)\\fR|(empty)\.|(a quarter of))", body)
        if not m:
            errors += fail(f"{path}: {key}: no 'Default: \\fB...\\fR' or 'Default: empty.'")
            continue
        if m.group(3):  # derived from max_clients: max_clients / 4, at least 1
            continue
        documented = '""' if m.group(2) else m.group(1).replace("\\-", "-")
        if documented != defaults[key]:
            errors += fail(f"{path}: {key}: documented default {documented!r}, "
                           f"the program's is {defaults[key]!r}")
        checked += 1
    print(f"check_man: {path}: {len(listed)} keys, {checked} defaults checked")
    return errors


def check_man8(binary, path):
    errors = 0
    text = open(path).read()
    usage = subprocess.run([binary, "--help"], check=True, capture_output=True,
                           text=True).stdout
    subcommands = re.findall(r"^  (\w+) ", usage.split("Subcommands:")[1], re.M)
    commands = " ".join(k for k, _ in man_entries(text, "COMMANDS"))
    commands += " " + " ".join(re.findall(r"^\.BR (\w+) \", \" (\w+)", text, re.M)[0])
    for sub in subcommands:
        if sub not in commands.split():
            errors += fail(f"{path}: COMMANDS does not describe '{sub}'")
    codes = re.findall(r"(\d+) [a-z]", usage.split("Exit codes:")[1])
    documented = [k for k, _ in man_entries(text, r"EXIT STATUS")]
    if sorted(codes, key=int) != sorted(documented, key=int):
        errors += fail(f"{path}: EXIT STATUS lists {documented}, --help {codes}")
    print(f"check_man: {path}: {len(subcommands)} subcommands, {len(codes)} exit codes")
    return errors


def check_render(path):
    errors = 0
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-ww", "-man", "-z", path], capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            errors += fail(f"groff -ww: {path}:\n{r.stderr}")
    else:
        print("check_man: groff missing, not rendered with it")
    if shutil.which("mandoc"):
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", path],
                           capture_output=True, text=True)
        if r.stdout.strip() or r.stderr.strip():
            errors += fail(f"mandoc -T lint: {path}:\n{r.stdout}{r.stderr}")
    else:
        print("check_man: mandoc missing, not linted")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--man", required=True, help="the folder with tinyimapd.8 and tinyimapd.conf.5")
    args = ap.parse_args()
    conf5 = os.path.join(args.man, "tinyimapd.conf.5")
    man8 = os.path.join(args.man, "tinyimapd.8")
    errors = check_conf5(args.binary, conf5) + check_man8(args.binary, man8)
    errors += check_render(conf5) + check_render(man8)
    print("check_man: " + ("FAILED" if errors else "ok"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
