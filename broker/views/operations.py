"""Operations endpoints: ``/healthz`` (the database answers) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from broker.context import broker, db
from broker.logs import log

bp = Blueprint("operations", __name__)
logger = logging.getLogger("broker.operations")


@bp.route("/healthz")
def healthz():
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log(logger, "health check failed", logging.ERROR, error=type(error).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/metrics")
def metrics():
    services = broker()
    return Response(services.metrics.exposition(), mimetype=services.metrics.content_type)
