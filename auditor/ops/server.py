"""The worker's ``/metrics`` endpoint: prometheus-client's HTTP server on its own registry."""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.registry import CollectorRegistry


class MetricsServerError(OSError):
    """The endpoint could not be opened; the message says why and what to change."""


@dataclass
class MetricsServer:
    httpd: WSGIServer
    thread: threading.Thread
    host: str

    @property
    def port(self) -> int:
        return int(self.httpd.server_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """Serve ``registry`` on ``host:port`` (0: a free port) from a daemon thread."""
    try:
        httpd, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = f"{host}:{port} is already in use (AUDITOR_METRICS_PORT; 0 picks a free port)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = f"{host} is not an address of this machine (AUDITOR_METRICS_HOST)"
        else:
            why = f"{host}:{port}: {exc.strerror or exc}"
        raise MetricsServerError(why) from None
    return MetricsServer(httpd, thread, host)
