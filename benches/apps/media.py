#!/usr/bin/env python3
"""The callers' media for benches/apps/run: one UDP socket per call.

Usage: media.py N CALLER_BASE CSV RESULTS DIGITS DIGIT_AFTER_MS

Binds N sockets on 127.0.0.1, writes CSV (a SIPp injection file:
`caller;rtp_port` per call) and then, until SIGTERM, for every call:
receives Calliope's RTP (arrival times, sequence numbers), and
DIGIT_AFTER_MS after the first loud packet (the `say`) presses DIGITS as
RFC 4733 telephone-events (payload 101: three updates, three end packets,
20 ms apart, 100 ms between keys) towards the address the audio comes
from. On SIGTERM it writes one JSON line per call to RESULTS: first packet,
first loud packet, when the last key's first packet and its first end
packet went, packets,
lost (sequence gaps), late (consecutive packets, same SSRC, timestamp
+160, more than 40 ms apart), the largest such gap; a gap of 400 ms or
more is a pause between prompts, counted apart (and whether the packet
after it has the marker bit).
"""
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

n, caller_base, csv_path, results_path, digits, digit_after = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]) / 1000.0)


def ulaw(c):
    c = ~c & 0xFF
    t = ((c & 0x0F) << 3) + 0x84
    t <<= (c & 0x70) >> 4
    return (0x84 - t) if c & 0x80 else (t - 0x84)


LOUD = bytes(1 if abs(ulaw(c)) > 1000 else 0 for c in range(256))

sel = selectors.DefaultSelector()
calls = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    call = {"caller": str(caller_base + i), "port": s.getsockname()[1], "sock": s, "peer": None,
            "first_packet": None, "first_loud": None, "last_digit_sent": None, "last_digit_end": None, "packets": 0,
            "lost": 0, "late": 0, "max_gap_ms": 0.0, "pauses": 0, "pause_marked": 0, "last": None, "keys_at": None}
    calls.append(call)
    sel.register(s, selectors.EVENT_READ, call)
tmp = csv_path + ".tmp"
with open(tmp, "w") as f:
    f.write("SEQUENTIAL\n")
    for c in calls:
        f.write("%s;%d\n" % (c["caller"], c["port"]))
os.rename(tmp, csv_path)

sends = []  # (when, call, packet, is_last_key_first_end)


def schedule_keys(call, start):
    seq, ts = 1, 8000
    at = start
    for k, d in enumerate(digits):
        event = {"*": 10, "#": 11}.get(d, ord(d) - 48)
        for i, (end, dur) in enumerate([(0, 160), (0, 320), (0, 480), (1, 480), (1, 480), (1, 480)]):
            p = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | 101, seq, ts, 0x12345678)
            p += struct.pack("!BBH", event, (0x80 if end else 0) | 10, dur)
            sends.append((at, call, p, i if k == len(digits) - 1 else -1))
            seq += 1
            at += 0.02
        ts += 1600
        at += 0.1
    sends.sort(key=lambda s: s[0])


stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
while not stop:
    now = time.time()
    while sends and sends[0][0] <= now:
        _, call, p, mark = sends.pop(0)
        try:
            call["sock"].sendto(p, call["peer"])
        except OSError:
            pass
        if mark == 0:
            call["last_digit_sent"] = time.time()
        elif mark == 3:
            call["last_digit_end"] = time.time()
    timeout = 0.05 if not sends else max(0.0, min(0.05, sends[0][0] - time.time()))
    for key, _ in sel.select(timeout):
        call = key.data
        while True:
            try:
                data, peer = call["sock"].recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                break
            t = time.time()
            if len(data) < 12 or data[1] & 0x7F != 0:
                continue
            seq, ts, ssrc = struct.unpack("!HII", data[2:12])
            call["packets"] += 1
            call["peer"] = peer
            if call["first_packet"] is None:
                call["first_packet"] = t
            if call["first_loud"] is None and sum(LOUD[b] for b in data[12:]) > 20:
                call["first_loud"] = t
                schedule_keys(call, t + digit_after)
            last = call["last"]
            if last is not None and last[3] == ssrc:
                lseq, lts, lt, _ = last
                step = (seq - lseq) & 0xFFFF
                if 1 < step < 1000:
                    call["lost"] += step - 1
                if step == 1 and ((ts - lts) & 0xFFFFFFFF) == 160:
                    gap = (t - lt) * 1000
                    if gap >= 400:
                        # Not a late frame: a pause in the audio (between
                        # prompts), resumed with the next timestamp.
                        call["pauses"] += 1
                        call["pause_marked"] += 1 if data[1] & 0x80 else 0
                    else:
                        if gap > 40:
                            call["late"] += 1
                        call["max_gap_ms"] = max(call["max_gap_ms"], gap)
            call["last"] = (seq, ts, t, ssrc)

with open(results_path, "w") as f:
    for c in calls:
        out = {k: v for k, v in c.items() if k not in ("sock", "peer", "last", "keys_at")}
        f.write(json.dumps(out) + "\n")
