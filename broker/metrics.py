"""Prometheus metrics (prometheus-client).

Each application has its own registry. Under several gunicorn workers, ``eid-broker serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start; ``/metrics`` then adds up all workers' values.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from broker.assurance import Level

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.logins = Counter("eid_broker_logins", "Login attempts by outcome and reached level",
                              ["outcome", "level"], registry=self.registry)
        self.registrations = Counter("eid_broker_registrations", "Registration attempts by outcome",
                                     ["outcome"], registry=self.registry)
        self.mails = Counter("eid_broker_mails", "Mails sent by purpose and outcome", ["purpose", "outcome"],
                             registry=self.registry)

        # Every login counts once: the labelled children are looked up here, not per login.
        self._login_children = {(outcome, level): self.logins.labels(outcome=outcome,
                                                                     level=level.label if level else "none")
                                for outcome in ("success", "failure", "throttled") for level in (None, *Level)}

    def login(self, outcome: str, level: Level | None = None) -> None:
        child = self._login_children.get((outcome, level))
        if child is None:
            child = self.logins.labels(outcome=outcome, level=level.label if level else "none")
        child.inc()

    def exposition(self) -> bytes:
        if os.environ.get(MULTIPROCESS_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
