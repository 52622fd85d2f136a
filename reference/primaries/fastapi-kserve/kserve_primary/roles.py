"""What the telemetry, logs and secrets roles need from the primary (issue 12), built once by
create_app() from the Config: only what the environment switched on exists, and only that
is imported (prometheus_client and the OpenTelemetry SDK stay unloaded otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from . import jsonio
from .access_log import AccessLogMiddleware, ASGIApp, LineSink, RequestCounter, tag_run
from .config import Config
from .errors import ApiError
from .inference import JSON_CONTENT_TYPE
from .log_control import LogControl, parse_burst, parse_rotate
from .log_file import AccessLogFile
from .request_stats import Listener, RequestStats, RequestStatsMiddleware
from .secret_file import SecretFile


@dataclass
class Roles:
    config: Config
    access_sink: LineSink  # where access-log lines go: the file or stdout, run field spliced in
    log_file: AccessLogFile | None = None
    secret: SecretFile | None = None
    stats: RequestStats | None = None
    listeners: list[Listener] = field(default_factory=list)
    # Started with the app, cancelled at shutdown (the secret poll, the textfile writer).
    runners: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # Run in order at shutdown, after the last request has completed.
    shutdown_steps: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    metrics_body: Callable[[], bytes] | None = None  # GET /metrics, when PRIMARY_METRICS=1
    metrics_content_type: str = ""
    log: LogControl | None = None  # set by wrap()

    @staticmethod
    def build(config: Config, stdout: LineSink) -> Roles:
        log_file = AccessLogFile(config.access_log_file) if config.access_log_file else None
        access_sink = log_file.write if log_file is not None else stdout
        if config.run_id:
            access_sink = tag_run(access_sink, config.run_id)
        roles = Roles(config, access_sink, log_file=log_file)
        if config.api_key_file:
            roles.secret = SecretFile(config.api_key_file)
            roles.runners.append(roles.secret.run)
        if config.counts_requests:
            roles._add_telemetry(config)
        return roles

    def _add_telemetry(self, config: Config) -> None:
        stats = self.stats = RequestStats()
        if config.metrics or config.metrics_textfile:
            from .telemetry_prom import CONTENT_TYPE, PrometheusExposition, TextfileWriter

            exposition = PrometheusExposition(stats)
            if config.metrics:
                self.metrics_body = exposition.render
                self.metrics_content_type = CONTENT_TYPE
            if config.metrics_textfile:
                textfile = TextfileWriter(exposition, config.metrics_textfile, config.metrics_textfile_interval_ms)
                self.runners.append(textfile.run)
                self.shutdown_steps.append(lambda: asyncio.to_thread(textfile.write))
        if config.otlp_endpoint:
            from .telemetry_otlp import OtlpTelemetry

            otlp = OtlpTelemetry.to_endpoint(
                stats,
                config.run_id,
                config.otlp_endpoint,
                config.otlp_metric_interval_ms,
                config.otlp_timeout_ms,
                config.otlp_signals,
            )
            self.listeners.append(otlp.on_request)
            self.shutdown_steps.append(otlp.shutdown)

    def wrap(self, app: ASGIApp, counter: RequestCounter) -> AccessLogMiddleware:
        """The app in the request counter (when counting) and the access log."""
        inner = app if self.stats is None else RequestStatsMiddleware(app, self.stats, self.listeners)
        logged = AccessLogMiddleware(inner, counter, self.access_sink)
        self.log = LogControl(logged, self.access_sink, self.log_file, self.config.run_id)
        if self.log_file is not None:
            # First at shutdown: the last line is written even if a telemetry flush hangs.
            self.shutdown_steps.insert(0, self._close_log)
        return logged

    async def _close_log(self) -> None:
        assert self.log is not None and self.log_file is not None
        self.log.write_shutdown_line()
        self.log_file.close()

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(run()) for run in self.runners]

    async def stop(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for step in self.shutdown_steps:
            await step()

    def install_routes(self, app: FastAPI) -> None:
        """The debug endpoints of the three roles; each answers 404 saying which variable
        switches it on when it is off. /metrics exists only with PRIMARY_METRICS=1."""

        def log() -> LogControl:
            assert self.log is not None, "wrap() comes before any request"
            return self.log

        @app.get("/v2/debug/log")
        async def debug_log() -> Response:
            return _json(log().state())

        @app.post("/v2/debug/log/rotate")
        async def debug_log_rotate(request: Request) -> Response:
            mode = parse_rotate(await request.body())
            if self.log_file is None:
                raise ApiError(
                    409, "PRIMARY_ACCESS_LOG_FILE is not set: the access log goes to stdout, nothing to rotate"
                )
            return _json({"last_seq_before": log().rotate(mode)})

        @app.post("/v2/debug/log/burst")
        async def debug_log_burst(request: Request) -> Response:
            lines, msg, pad_bytes, gap_ms = parse_burst(await request.body())
            first_seq, last_seq = await log().burst(lines, msg, pad_bytes, gap_ms)
            return _json({"first_seq": first_seq, "last_seq": last_seq})

        @app.get("/v2/debug/secret")
        async def debug_secret() -> Response:
            if self.secret is None:
                raise ApiError(404, "PRIMARY_API_KEY_FILE is not set: no secret file is watched")
            return _json(self.secret.report())

        @app.get("/v2/debug/telemetry")
        async def debug_telemetry() -> Response:
            if self.stats is None:
                raise ApiError(
                    404,
                    "requests are not counted: set PRIMARY_TELEMETRY=1, PRIMARY_METRICS=1 or PRIMARY_METRICS_TEXTFILE",
                )
            return _json(self.stats.counts_json())

        metrics_body = self.metrics_body
        if metrics_body is not None:
            content_type = self.metrics_content_type

            @app.get("/metrics")
            async def metrics() -> Response:
                return Response(metrics_body(), media_type=content_type)


def _json(value: object) -> Response:
    return Response(jsonio.dumps(value), media_type=JSON_CONTENT_TYPE, headers={"Cache-Control": "no-store"})
