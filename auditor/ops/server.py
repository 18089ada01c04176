"""The worker's HTTP endpoint: ``/metrics`` from its own registry, ``/livez`` and ``/readyz``."""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import CollectorRegistry

from auditor.stream.health import Health

LIVENESS = "/livez"
READINESS = "/readyz"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/metrics"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape or a probe every few seconds is not news


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = orjson.dumps(body)
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def application(registry: CollectorRegistry, health: Health) -> WSGIApp:
    """``/livez``: 200 while the process serves (a long memory restore included, so an
    orchestrator never restarts a worker for it); ``/readyz``: 200 once ready, else 503
    with what it waits for (``Health``); anything else: the metrics, as before."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == LIVENESS:
            return _json(start_response, "200 OK", {"alive": True})
        if path == READINESS:
            ready, report = health.readiness()
            return _json(start_response, "200 OK" if ready else "503 Service Unavailable",
                         report)
        result: Iterable[bytes] = metrics(environ, start_response)
        return result

    return app


def serve_metrics(registry: CollectorRegistry, host: str, port: int,
                  health: Health | None = None) -> MetricsServer:
    """Serve ``registry`` and the probes on ``host:port`` (0: a free port) from a thread."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                    flags=socket.AI_PASSIVE)[0][0]

        class Server(ThreadingWSGIServer):
            address_family = family  # an IPv6 host needs an IPv6 socket

        httpd = make_server(host, port, application(registry, health or Health()),
                            Server, handler_class=_Quiet)
    except OSError as exc:
        if isinstance(exc, socket.gaierror):
            why = f"{host} is not an address of this machine (AUDITOR_METRICS_HOST)"
        elif exc.errno == errno.EADDRINUSE:
            why = f"{host}:{port} is already in use (AUDITOR_METRICS_PORT; 0 picks a free port)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = f"{host} is not an address of this machine (AUDITOR_METRICS_HOST)"
        else:
            why = f"{host}:{port}: {exc.strerror or exc}"
        raise MetricsServerError(why) from None
    thread = threading.Thread(target=httpd.serve_forever, name="auditor-metrics", daemon=True)
    thread.start()
    return MetricsServer(httpd, thread, host)
