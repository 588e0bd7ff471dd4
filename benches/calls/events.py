#!/usr/bin/env python3
"""Reads Calliope's `/events` WebSocket and logs every event.

Usage: events.py HOST PORT TOKEN LOG

Subscribes to every event (`{"type":"subscribe","events":["*"]}`) and
writes a JSON line per event to LOG: `{"t": arrival (time.time()),
"e": the event}`. A minimal RFC 6455 client (text frames, ping/pong),
because the benchmark needs no more. Runs until killed.
"""
import base64
import json
import os
import socket
import struct
import sys
import time

host, port, token, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /events?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("the server closed the connection during the handshake")
    buf += chunk
head, buf = buf.split(b"\r\n\r\n", 1)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit("no upgrade: " + head.decode(errors="replace"))


def send(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x80 | opcode])
    if n < 126:
        hdr += bytes([0x80 | n])
    elif n < 65536:
        hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def need(k):
    global buf
    while len(buf) < k:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk


send(1, json.dumps({"type": "subscribe", "events": ["*"]}).encode())
log = open(log_path, "a", buffering=1)
message = b""
try:
    while True:
        need(2)
        b0, b1 = buf[0], buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            need(4)
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            need(10)
            n, off = struct.unpack("!Q", buf[2:10])[0], 10
        need(off + n)
        payload, buf = buf[off:off + n], buf[off + n:]
        opcode = b0 & 0x0F
        if opcode == 9:
            send(10, payload)
        elif opcode == 8:
            break
        elif opcode in (0, 1):
            message += payload
            if b0 & 0x80:
                t = time.time()
                try:
                    event = json.loads(message)
                except ValueError:
                    event = {"raw": message.decode(errors="replace")}
                log.write(json.dumps({"t": t, "e": event}) + "\n")
                message = b""
except (EOFError, OSError):
    pass
