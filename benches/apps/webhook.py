#!/usr/bin/env python3
"""The benchmark's Fonoster application: a webhook server on 127.0.0.1.

Usage: webhook.py PORT LOG SAY_TEXT PLAY_MS

The first request of a session (no digits) is answered with `say` then
`gather` (dtmf, two digits); the request carrying the digits with `play`
of a tone of PLAY_MS ms then `hangup`. Every request is logged to LOG as a
JSON line: the caller number, whether digits came, when the request
arrived and when its answer was written (time.time(), seconds).
Signatures are not checked: the tests do that; here it is load.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path, say_text, play_ms = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
log = open(log_path, "a", buffering=1)
lock = threading.Lock()


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        digits = body.get("digits")
        if digits is None:
            commands = [
                {"say": {"text": say_text}},
                {"gather": {"source": "dtmf", "timeout": 10000, "maxDigits": 2}},
            ]
        else:
            commands = [
                {"play": {"url": "tone_stream://%%(%d,0,440)" % play_ms}},
                {"hangup": {}},
            ]
        reply = json.dumps({"commands": commands}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        self.wfile.flush()
        answered = time.time()
        with lock:
            log.write(json.dumps({"caller": body.get("callerNumber"), "session": body.get("sessionRef"),
                                  "digits": digits, "arrived": arrived, "answered": answered}) + "\n")

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 512
ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
