#!/usr/bin/env python3
"""Originates calls through `POST /api/channels` at a steady rate.

Usage: drive.py HOST PORT TOKEN RATE SECS DEST APP ARGS LOG

RATE calls a second for SECS seconds, form-encoded as the PBX seed's curl
examples (`destNumber=...&cidNumber=...&app=...&args=...`; APP `park`
sends no app: the channel parks). 32 worker threads with keep-alive
connections take the calls at their scheduled times. Writes a JSON line
per call to LOG: scheduled and sent times, HTTP status, the answer's
`uuid`, how long the request took.
"""
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse

host, port, token, rate, secs, dest, app, args, log_path = (
    sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]),
    sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9])
fields = {"destNumber": dest, "cidNumber": "15550001111"}
if app != "park":
    fields["app"] = app
    fields["args"] = args
body = urllib.parse.urlencode(fields)
jobs = queue.Queue()
results = []
lock = threading.Lock()


def worker():
    conn = None
    while True:
        due = jobs.get()
        if due is None:
            return
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        sent = time.time()
        status, uuid, error = 0, None, None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("POST", "/api/channels", body=body, headers={
                "X-XTRA-AUTH-ID": token, "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            raw = r.read()
            status = r.status
            try:
                uuid = json.loads(raw).get("uuid")
            except ValueError:
                error = raw[:200].decode(errors="replace")
            if status != 200:
                error = raw[:200].decode(errors="replace")
        except (OSError, http.client.HTTPException) as e:
            error = repr(e)
            conn = None
        with lock:
            results.append({"due": due, "sent": sent, "took_ms": round((time.time() - sent) * 1000, 1),
                            "status": status, "uuid": uuid, "error": error})


threads = [threading.Thread(target=worker, daemon=True) for _ in range(32)]
for t in threads:
    t.start()
start = time.time() + 0.2
total = int(rate * secs)
for i in range(total):
    jobs.put(start + i / rate)
for _ in threads:
    jobs.put(None)
for t in threads:
    t.join()
with open(log_path, "w") as f:
    for r in sorted(results, key=lambda r: r["due"]):
        f.write(json.dumps(r) + "\n")
