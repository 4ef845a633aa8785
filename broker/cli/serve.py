"""``eid-broker serve``: the broker under gunicorn, HTTPS with a self-signed certificate by default."""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from broker import logs
from broker.config import Settings, load_settings
from broker.tls import ensure_certificate

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _worker_exit(_server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROCESS_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


class BrokerLogger(Logger):
    """gunicorn's logging without its access log: the application writes one line per request itself, with
    the route pattern instead of the path. (Given a logging configuration, gunicorn would otherwise build
    every request's access-log fields only to drop them at a logger without handlers.)"""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


class BrokerServer(BaseApplication):
    """gunicorn with its options from here; the Flask app is made in each worker (after the fork)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 24 opens a control socket at one fixed path per user; several brokers on one
            # machine would fight over it, and nothing here uses it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from broker.app import create_app

        logs.configure(self.settings.log_level)
        return create_app(self.settings)


def gunicorn_logging(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "broker.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
    }


def public_url(settings: Settings, host: str, port: int) -> str:
    if settings.public_url:
        return settings.public_url
    scheme = "http" if settings.insecure_http else "https"
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"{scheme}://{shown}:{port}"


def prepare(data_dir: Path, host: str, port: int, http: bool, **overrides: Any) -> Settings:
    """Settings for serving on ``host:port``, with the database upgraded."""
    from broker.db import make_engine, upgrade

    settings = load_settings(data_dir, **overrides)
    if http:
        settings = dataclasses.replace(settings, insecure_http=True)
    settings = dataclasses.replace(settings, public_url=public_url(settings, host, port))
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return prepare_eid(settings, host)


def prepare_eid(settings: Settings, host: str) -> Settings:
    """The eID listener's address and origin fixed (before gunicorn forks its workers), and the terminal
    checked — for the demo terminal: made for this origin and TLS certificate."""
    from broker import eid_server

    if not (settings.eid_enabled and not settings.insecure_http):
        return settings
    eid_host, eid_port = eid_server.listener_address(settings, host)
    settings = dataclasses.replace(settings, eid_host=eid_host, eid_port=eid_port,
                                   eid_public_url=settings.eid_public_url or eid_server.listener_url(eid_host, eid_port))
    eid_server.terminal(settings, datetime.now(UTC).date())
    return settings


def run(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": None,  # the application logs requests itself, with route patterns instead of paths
        "logger_class": BrokerLogger,
        "logconfig_dict": gunicorn_logging(settings.log_level),
        "worker_exit": _worker_exit,
        "proc_name": "eid-broker",
    }
    if workers > 1:
        directory = settings.data_dir / "run" / "prometheus"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ[MULTIPROCESS_ENV] = str(directory)
    if not settings.insecure_http:
        files = ensure_certificate(settings.data_dir)
        options.update(certfile=str(files.certificate), keyfile=str(files.key))
    listener = None
    from broker import eid_server

    if eid_server.available(settings):
        # One listener process for all workers (the no-PSK mode needs its one TLS session cache); they share
        # the eID sessions through the database.
        listener = eid_server.spawn_listener(settings)
    try:
        BrokerServer(settings, options).run()
    finally:
        if listener is not None:
            eid_server.stop_listener(listener)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--http", is_flag=True, help="Plain HTTP for development (cookies lose their Secure flag).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.pass_obj
def serve(data_dir: Path, host: str, port: int, http: bool, workers: int, threads: int) -> None:
    """Serve the broker (HTTPS with a self-signed certificate in the data directory)."""
    settings = prepare(data_dir, host, port, http)
    click.echo(f"eid-broker listening on {settings.public_url}/", err=True)
    if settings.eid_public_url:
        click.echo(f"eID-Server (TC token, PAOS) listening on {settings.eid_public_url}/", err=True)
    run(settings, host, port, workers, threads)
