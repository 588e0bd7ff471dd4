#!/usr/bin/env python3
"""The post-event receiver: logs every channel-state push Calliope sends.

Usage: receiver.py PORT LOG

Answers each POST 200 and writes a JSON line to LOG: `{"t": arrival
(time.time()), "push": the JSON body}`. Signatures are not checked (the
tests do that); here it is load.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        t = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        try:
            push = json.loads(raw)
        except ValueError:
            push = {"raw": raw.decode(errors="replace")}
        with lock:
            log.write(json.dumps({"t": t, "push": push}) + "\n")

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 512
ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
