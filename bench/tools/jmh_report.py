#!/usr/bin/env python3
"""Turns a JMH JSON result file into a Markdown table; secondary `bytes`/`chunks` counters become MB/s, chunks/s."""
import json
import os
import platform
import subprocess
import sys

path = sys.argv[1]
runs = json.load(open(path))


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.2f}"


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


mem = ""
try:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) // 1024 // 1024} GiB"
except OSError:
    pass
load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
first = runs[0] if runs else {}
print(f"# JMH micro-benchmarks ({os.path.basename(path)})\n")
print(f"Machine: {os.cpu_count()} CPUs, {mem}, {platform.system()} {platform.release()}, JDK {first.get('jdkVersion', '?')} "
      f"({first.get('vmName', '?')}), commit `{commit()}`, load average at the end {' '.join(load)}. "
      f"JMH {first.get('jmhVersion', '?')}, {first.get('forks', '?')} fork, {first.get('warmupIterations', '?')} x "
      f"{first.get('warmupTime', '?')} warm-up, {first.get('measurementIterations', '?')} x {first.get('measurementTime', '?')} "
      "measurement: short runs on a shared machine, so read the error column.\n")
print("| benchmark | params | score | error (99.9%) | unit | MB/s | chunks/s |")
print("|---|---|---|---|---|---|---|")
for r in runs:
    name = r["benchmark"].split(".")
    bench = ".".join(name[-2:])
    params = ", ".join(f"{k}={v}" for k, v in (r.get("params") or {}).items())
    pm = r["primaryMetric"]
    sec = r.get("secondaryMetrics") or {}
    mbs = sec.get("bytes", {}).get("score")
    cps = sec.get("chunks", {}).get("score")
    err = pm.get("scoreError")
    err_s = fmt(err) if isinstance(err, (int, float)) and err == err else ""
    print(f"| {bench} | {params} | {fmt(pm['score'])} | {err_s} | {pm['scoreUnit']} | "
          f"{fmt(mbs / 1e6) if mbs else ''} | {fmt(cps) if cps else ''} |")
