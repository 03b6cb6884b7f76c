#!/usr/bin/env python3
"""A tiny OTLP/HTTP trace sink for benchmarks: accepts POST /v1/traces (protobuf or JSON), answers 200 with an empty
ExportTraceServiceResponse, and counts requests and bytes (printed on SIGTERM/Ctrl-C). Loopback only.
    bench/tools/otlp_sink.py PORT
"""
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stats = {"requests": 0, "bytes": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        stats["requests"] += 1
        stats["bytes"] += n
        ctype = self.headers.get("Content-Type", "application/x-protobuf")
        body = b"{}" if "json" in ctype else b""
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)

    def stop(*_):
        print(f"otlp sink: {stats['requests']} exports, {stats['bytes']} bytes", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
