"""A webhook receiver for the instance test (InstanceTests): answers 204 to every POST and appends
one JSON line per delivery (arrival time, the Standard Webhooks id, the body) to the file given.
The first line on stdout says where it listens: "ready PORT".

Usage: webhook_sink.py RECEIVED.jsonl
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
out = open(sys.argv[1], "a", buffering=1)


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        line = json.dumps({"at": time.time(), "id": self.headers.get("webhook-id"), "body": body.decode("utf-8", "replace")})
        with lock:
            out.write(line + "\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
