#!/usr/bin/env python3
"""Summarises `jfr print --events jdk.ExecutionSample --stack-depth 64 FILE` output: the methods most often on the
stack (inclusive) and at the top (self), as a share of all samples. Usage: jfr_top.py PRINTED.txt [N] [filter]"""
import collections
import re
import sys

text = open(sys.argv[1]).read()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
filt = sys.argv[3] if len(sys.argv) > 3 else None
events = text.split('jdk.ExecutionSample {')[1:]
inclusive = collections.Counter()
top = collections.Counter()
total = 0
for e in events:
    if 'stackTrace = [' not in e:
        continue
    body = e.split('stackTrace = [', 1)[1].split('\n  ]', 1)[0]
    frames = [re.sub(r'\s+line:.*$', '', l.strip()) for l in body.split('\n') if l.strip() and l.strip() != '...']
    if not frames:
        continue
    total += 1
    top[frames[0]] += 1
    for f in set(frames):
        if filt is None or filt in f:
            inclusive[f] += 1
print(f"{total} samples")
print("\n== inclusive (on the stack) ==")
for f, c in inclusive.most_common(n):
    print(f"{100.0 * c / total:5.1f}%  {f}")
print("\n== self (top frame) ==")
for f, c in top.most_common(15):
    print(f"{100.0 * c / total:5.1f}%  {f}")
