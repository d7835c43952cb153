"""A local OTLP/HTTP trace receiver, for trying and checking the kit's traces.

Serves POST /v1/traces (protobuf, plain or gzip) on 127.0.0.1, decodes each
ExportTraceServiceRequest with `opentelemetry-proto` and appends one JSON line per span to
OUT. Run it through scripts/otlp-receiver, which installs its venv.

Bounded: bodies above --max-body bytes (also after gunzip) are refused with 413, and it
exits by itself after --max-seconds; SIGTERM and SIGINT stop it cleanly (the lines written
so far are complete).
"""

import argparse
import json
import os
import signal
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

KINDS = {
    Span.SPAN_KIND_UNSPECIFIED: "UNSPECIFIED",
    Span.SPAN_KIND_INTERNAL: "INTERNAL",
    Span.SPAN_KIND_SERVER: "SERVER",
    Span.SPAN_KIND_CLIENT: "CLIENT",
    Span.SPAN_KIND_PRODUCER: "PRODUCER",
    Span.SPAN_KIND_CONSUMER: "CONSUMER",
}
STATUSES = {
    Status.STATUS_CODE_UNSET: "UNSET",
    Status.STATUS_CODE_OK: "OK",
    Status.STATUS_CODE_ERROR: "ERROR",
}


def say(message):
    print(f"otlp-receiver: {message}", file=sys.stderr, flush=True)


def any_value(value):
    """An OTLP AnyValue as plain JSON."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {kv.key: any_value(kv.value) for kv in pairs}


def span_lines(request):
    """One JSON-ready dict per span of an ExportTraceServiceRequest."""
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "service": resource.get("service.name"),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": KINDS.get(span.kind, str(span.kind)),
                    "attributes": attributes(span.attributes),
                    "status": {
                        "code": STATUSES.get(span.status.code, str(span.status.code)),
                        "message": span.status.message,
                    },
                    "start_unix_nano": span.start_time_unix_nano,
                    "end_unix_nano": span.end_time_unix_nano,
                }


def gunzip(body, limit):
    """The gzip body decompressed, or None when it is larger than `limit`."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        return None
    return out


def make_handler(out, lock, max_body):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, body=b"", content_type="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path.split("?")[0] != "/v1/traces":
                return self.answer(404, b"only /v1/traces\n")
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_body:
                self.close_connection = True
                return self.answer(413, b"body too large\n")
            body = self.rfile.read(length)
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type != "application/x-protobuf":
                return self.answer(415, b"protobuf only (application/x-protobuf)\n")
            encoding = (self.headers.get("Content-Encoding") or "identity").lower()
            if encoding == "gzip":
                try:
                    body = gunzip(body, max_body)
                except (zlib.error, EOFError, OSError):
                    return self.answer(400, b"bad gzip body\n")
                if body is None:
                    return self.answer(413, b"body too large after gunzip\n")
            elif encoding != "identity":
                return self.answer(415, b"gzip or identity only\n")
            request = ExportTraceServiceRequest()
            try:
                request.ParseFromString(body)
            except DecodeError as error:
                return self.answer(400, f"not an ExportTraceServiceRequest: {error}\n".encode())
            lines = [json.dumps(line, sort_keys=True) + "\n" for line in span_lines(request)]
            with lock:
                out.writelines(lines)
                out.flush()
            self.answer(
                200,
                ExportTraceServiceResponse().SerializeToString(),
                "application/x-protobuf",
            )

        def log_message(self, format, *args):
            pass  # one line per request would drown the caller's output

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="file the span lines are appended to")
    parser.add_argument("--port-file", help="where the bound port is written once listening")
    parser.add_argument("--max-seconds", type=float, default=600, help="exit after this long")
    parser.add_argument("--max-body", type=int, default=16 << 20, help="largest body, bytes")
    args = parser.parse_args()

    lock = threading.Lock()
    with open(args.out, "a", encoding="utf-8") as out:
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(out, lock, args.max_body))
        server.daemon_threads = True
        port = server.server_address[1]
        if args.port_file:
            # Written whole, then renamed: a reader never sees half a number.
            tmp = f"{args.port_file}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(f"{port}\n")
            os.replace(tmp, args.port_file)
        say(f"listening on http://127.0.0.1:{port} (endpoint), spans to {args.out}")

        def stop(*_):
            # shutdown() waits for serve_forever, so it runs off the main thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        timer = threading.Timer(args.max_seconds, stop)
        timer.daemon = True
        timer.start()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            timer.cancel()
            server.server_close()
            # Requests in progress finish their write under the lock before the file closes.
            with lock:
                out.flush()
    say("stopped")


if __name__ == "__main__":
    main()
