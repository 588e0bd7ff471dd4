#!/usr/bin/env python3
"""Summarises one rate step of benches/calls/run.

Usage: analyze.py DRIVE_LOG EVENTS_LOG PUSHES_LOG RATE SECS

A call counts as held when its POST answered 200 with a uuid, `/events`
carried its `call.answered` and its `call.ended` with cause
NORMAL_CLEARING. The delays compare each state's arrival on the
WebSocket and at the post-event receiver with the state's own time: the
push's `Event-Date-Timestamp` (milliseconds; the WebSocket's `at` has only
seconds), the same event on Calliope's bus. A call's pushes are complete
when ringing, answered and hangup came, in that order. Prints one JSON
object.
"""
import json
import sys

drive_log, events_log, pushes_log, rate, secs = sys.argv[1:6]
calls = [json.loads(l) for l in open(drive_log) if l.strip()]
uuids = {c["uuid"] for c in calls if c["status"] == 200 and c["uuid"]}
events = [json.loads(l) for l in open(events_log) if l.strip()]
pushes = [json.loads(l) for l in open(pushes_log) if l.strip()]

STATE_OF = {"call.ringing": "ringing", "call.early": "early", "call.answered": "answered", "call.ended": "hangup"}
answered, ended_ok, causes = set(), set(), {}
ws_at = {}
for ev in events:
    e = ev["e"]
    ref = (e.get("data") or {}).get("ref")
    if ref not in uuids:
        continue
    kind = e.get("type")
    if kind == "call.answered":
        answered.add(ref)
    if kind == "call.ended":
        cause = e["data"].get("cause")
        causes[cause] = causes.get(cause, 0) + 1
        if cause == "NORMAL_CLEARING":
            ended_ok.add(ref)
    if kind in STATE_OF:
        ws_at.setdefault((ref, STATE_OF[kind]), ev["t"])

push_delay, ws_delay = {}, {}
pushed = set()
push_order = {}
for p in pushes:
    body = p["push"]
    ref, state = body.get("Unique-ID"), body.get("Answer-State")
    if ref not in uuids:
        continue
    pushed.add(ref)
    push_order.setdefault(ref, []).append(state)
    try:
        at = int(body["Event-Date-Timestamp"]) / 1e6
    except (KeyError, ValueError):
        continue
    push_delay.setdefault(state, []).append((p["t"] - at) * 1000)
    if (ref, state) in ws_at:
        ws_delay.setdefault(state, []).append((ws_at[(ref, state)] - at) * 1000)


def spread(values):
    if not values:
        return None
    v = sorted(values)
    at = lambda p: round(v[min(len(v) - 1, int(p / 100.0 * len(v)))], 1)
    return {"n": len(v), "p50": at(50), "p95": at(95), "p99": at(99), "max": round(v[-1], 1)}


offered = len(calls)
held = len(uuids & answered & ended_ok)
late_posts = [c["sent"] - c["due"] for c in calls]
print(json.dumps({
    "rate": float(rate), "offered": offered,
    "post_200": len(uuids), "post_errors": sorted({c["error"] for c in calls if c["error"]})[:3],
    "answered": len(uuids & answered), "ended_normal": len(uuids & ended_ok), "held": held,
    "failed_pct": round(100 * (offered - held) / offered, 2) if offered else None,
    "causes": causes, "pushed_calls": len(pushed),
    "pushes_complete": sum(1 for o in push_order.values() if o == ["ringing", "answered", "hangup"]),
    "post_ms": spread([c["took_ms"] for c in calls]),
    "driver_behind_ms_max": round(max(late_posts, default=0) * 1000, 1),
    "ws_delay_ms": {k: spread(v) for k, v in ws_delay.items()},
    "push_delay_ms": {k: spread(v) for k, v in push_delay.items()},
}))
