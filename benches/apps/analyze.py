#!/usr/bin/env python3
"""Summarises one round of benches/apps/run.

Usage: analyze.py ROUND_JSON
ROUND_JSON names: calls, media (media.py's results), hooks (webhook.py's
log), sipp (SIPp's -stf CSV), metrics0/metrics1 (GET /metrics before and
after), cpu_ticks, hz, secs, rss_idle_kib, rss_peak_kib, live_peak.
Prints one JSON object with the figures.
"""
import json
import re
import sys

r = json.load(open(sys.argv[1]))


def metric(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(p / 100.0 * len(v)))], 1)


def spread(values):
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "max": round(max(values), 1) if values else None}


media = [json.loads(l) for l in open(r["media"]) if l.strip()]
callers = {m["caller"] for m in media}
hooks = [json.loads(l) for l in open(r["hooks"]) if l.strip()]
hooks = [h for h in hooks if h["caller"] in callers]
first_answer = {h["caller"]: h["answered"] for h in hooks if h["digits"] is None}
digit_arrival = {h["caller"]: h["arrived"] for h in hooks if h["digits"] is not None}
digits_seen = {h["caller"]: h["digits"] for h in hooks if h["digits"] is not None}

say_ms = [(m["first_loud"] - first_answer[m["caller"]]) * 1000 for m in media
          if m["first_loud"] and m["caller"] in first_answer]
digit_ms = [(digit_arrival[m["caller"]] - m["last_digit_sent"]) * 1000 for m in media
            if m["last_digit_sent"] and m["caller"] in digit_arrival]
digit_end_ms = [(digit_arrival[m["caller"]] - m["last_digit_end"]) * 1000 for m in media
                if m["last_digit_end"] and m["caller"] in digit_arrival]

ok = failed = 0
try:
    last = open(r["sipp"]).read().strip().splitlines()[-1].split(";")
    ok, failed = int(last[15]), int(last[17])
except (OSError, IndexError, ValueError):
    pass

m0, m1 = open(r["metrics0"]).read(), open(r["metrics1"]).read()
d = lambda name: metric(m1, name) - metric(m0, name)
ticks, ticks_late = d("calliope_media_ticks_total"), d("calliope_media_ticks_late_total")
rtp_in, rtp_late = d("calliope_rtp_packets_received_total"), d("calliope_rtp_packets_late_total")
rtp_out = d("calliope_rtp_packets_sent_total")
dropped = d("calliope_rtp_packets_dropped_total")
packets = sum(m["packets"] for m in media)
lost = sum(m["lost"] for m in media)
late = sum(m["late"] for m in media)
n = r["calls"]
cpu_s = r["cpu_ticks"] / r["hz"]
out = {
    "calls": n,
    "sipp_ok": ok, "sipp_failed": failed,
    "live_peak": r["live_peak"],
    "heard_say": sum(1 for m in media if m["first_loud"]),
    "digits_reached_webhook": sum(1 for c in callers if digits_seen.get(c) == "42"),
    "media_ticks": int(ticks), "media_ticks_late": int(ticks_late),
    "media_ticks_late_pct": round(100 * ticks_late / ticks, 3) if ticks else None,
    "rtp_in": int(rtp_in), "rtp_in_late": int(rtp_late), "rtp_out": int(rtp_out), "rtp_dropped": int(dropped),
    "caller_packets": packets, "caller_lost": lost, "caller_late_gt40ms": late,
    "caller_lost_late_pct": round(100 * (lost + late) / packets, 3) if packets else None,
    "caller_max_gap_ms": round(max((m["max_gap_ms"] for m in media), default=0), 1),
    "caller_pauses": sum(m["pauses"] for m in media),
    "caller_pauses_marked": sum(m["pause_marked"] for m in media),
    "cpu_s": round(cpu_s, 2), "wall_s": round(r["secs"], 1),
    "cpu_pct_of_one_core": round(100 * cpu_s / r["secs"], 1) if r["secs"] else None,
    "cpu_ms_per_call": round(1000 * cpu_s / max(ok, 1), 1),
    "rss_idle_kib": r["rss_idle_kib"], "rss_peak_kib": r["rss_peak_kib"],
    "rss_kib_per_live_call": round((r["rss_peak_kib"] - r["rss_idle_kib"]) / max(r["live_peak"], 1), 1),
    "answer_to_say_ms": spread(say_ms),
    "last_digit_to_webhook_ms": spread(digit_ms),
    "last_digit_end_to_webhook_ms": spread(digit_end_ms),
}
print(json.dumps(out))
