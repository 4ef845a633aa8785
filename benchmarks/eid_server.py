"""eID-Server figures: CPU per complete authentication, concurrent authentications over loopback TLS-PSK,
memory per open session, and AusweisApp end to end.

    .venv/bin/python benchmarks/eid_server.py [--runs 50] [--concurrent 200] [--client-processes 4]
                                              [--ausweisapp-runs 10]

A complete authentication: TC token (via the broker origin's redirect), PAOS over TLS, StartPAOS →
EAC1InputType, EAC1OutputType → EAC2InputType (TA signature), EAC2OutputType → passive authentication, CA
token, one secure-messaging Transmit (SELECT, READ DG4/DG5/DG8, VERIFY age and validity, RI) →
StartPAOSResponse. The clients are our own eID client (eid/client) with a virtual card each: in this
process one at a time, spread over ``--client-processes`` forked processes when many run at once (in one
process 200 clients queue behind its one GIL, and a TLS handshake can wait out its timeout there).

1. the server's part alone, in-process: CPU of parsing, the state machine (with the crypto), serialising,
   and storing the session as JSON after every step — what one authentication costs the eID-Server
   (target ≤ 15 ms);
2. the eID-Server in a child process (the broker's origin stays in this one), driven over loopback: the
   child's CPU per authentication (its TLS handshakes and HTTP included), then ``--concurrent`` authentications at once
   (TLS-PSK): throughput and p95 of the whole run per client, and the child's resident memory per open
   session (sessions parked at the consent step, each holding its TLS connection);
3. Debian's AusweisApp2 with its Simulator card: RUN_AUTH to the AUTH result, complete flow, per TLS mode
   (the card inserted at once, without the tests' pause, so runs hit by the Simulator's card-connect race
   are counted and left out until ``--ausweisapp-runs`` runs have counted; target ≤ 300 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cardreader.virtual import VirtualCard  # noqa: E402
from eid import paos  # noqa: E402
from eid.client.authentication import authenticate  # noqa: E402
from eid.client.citizen import PreparedCitizen  # noqa: E402
from eid.client.states import AwaitEac1, ClientContext, Finished, start_paos  # noqa: E402
from eid.paos import PaosEnvelope  # noqa: E402
from eid.server import conversation  # noqa: E402
from eid.server.session import EidSession  # noqa: E402
from eid.server.states import StepContext  # noqa: E402
from eid.terminal import CardSession  # noqa: E402
from tests.eid.server.common import REQUEST, TC_TOKEN_URL, new_session, terminal  # noqa: E402
from eid.server.certificate import create_self_signed  # noqa: E402
from tests.eid.server.deployment import BrokerOrigin, deploy  # noqa: E402
from tests.support.network import free_port  # noqa: E402
from tests.support import eid_world  # noqa: E402

PIN = eid_world.PIN


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- 1. the server's part, in-process --------------------------------------------------------------------

def server_part(runs: int) -> tuple[float, float]:
    """Median CPU seconds the server spends on one complete authentication; and the passive
    authentication's share of it."""
    context = StepContext(terminal(), lambda: eid_world.NOW, os.urandom)
    spent = []
    for _ in range(runs + 3):
        card = eid_world.card()
        client = ClientContext(open_card=lambda c=card: CardSession(c), rng=os.urandom, tc_token_url=TC_TOKEN_URL,
                               citizen=PreparedCitizen.with_passwords([PIN]))
        current = new_session(context, REQUEST)
        state = AwaitEac1()
        message = start_paos(current.session_identifier, b"\x00")
        relates_to = None
        cpu = 0.0
        while True:
            envelope = paos.serialise(PaosEnvelope(message, paos.new_message_id(os.urandom), relates_to))
            started = time.process_time()
            stored = EidSession.from_json(current.to_json())
            current, reply = conversation.step(stored, paos.parse(envelope), context)
            current.to_json()
            body = paos.serialise(reply)
            cpu += time.process_time() - started
            step = state.receive(paos.parse(body).message, client)
            state = step.state
            if isinstance(state, Finished):
                break
            message, relates_to = step.reply, paos.parse(body).message_id
        assert current.state.result.ok
        spent.append(cpu)
    from eid.passive_authentication import verify

    pki = eid_world.shared_pki()
    profile = eid_world.profile()
    started = time.process_time()
    for _ in range(runs):
        verify(profile.card_security, [pki.csca], eid_world.NOW)
    return statistics.median(spent[3:]), (time.process_time() - started) / runs


# --- 2. the eID-Server in a child process ------------------------------------------------------------------

def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def serve(directory: str, eid_port: int, broker: BrokerOrigin, pipe) -> None:
    deployed = deploy(Path(directory), eid_port=eid_port, broker=broker)
    pipe.send(deployed.profile)
    try:
        while True:
            command, argument = pipe.recv()
            if command == "start":
                count, use_psk = argument
                pipe.send([(started.reference, url) for started, url in
                           (deployed.start(REQUEST, use_psk) for _ in range(count))])
            elif command == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                pipe.send(usage.ru_utime + usage.ru_stime)
            elif command == "rss":
                pipe.send(resident_kib())
            elif command == "ok":
                results = [deployed.service.result(reference) for reference in argument]
                pipe.send(sum(1 for result in results if result is not None and result.ok))
            else:
                break
    finally:
        deployed.stop()


class Child:
    """The eID-Server in a child process; the broker's origin stays in this one (its TLS is not the server's)."""

    def __init__(self, directory: str) -> None:
        eid_port = free_port()
        self.broker = BrokerOrigin(create_self_signed(), Path(directory) / "broker-tls", f"https://127.0.0.1:{eid_port}")
        self.pipe, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(target=serve,
                                                                   args=(directory, eid_port, self.broker, child))
        self.process.start()
        self.broker.start()
        self.profile = self.pipe.recv()

    def ask(self, command: str, argument=None):
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send(("stop", None))
        self.process.join()
        self.broker.stop()


class ParkedCitizen(PreparedCitizen):
    """Waits at the consent step until released (sessions kept open for the memory figure)."""

    def __init__(self, release: threading.Event, parked: threading.Semaphore) -> None:
        super().__init__(iter([PIN]))
        self.release, self.parked = release, parked

    def consent(self, consent):
        self.parked.release()
        self.release.wait()
        return super().consent(consent)


def one(url: str, profile, citizen=None) -> float:
    card = VirtualCard(profile)
    card.power_on()
    started = time.perf_counter()
    outcome = authenticate(url, citizen or PreparedCitizen.with_passwords([PIN]), lambda: CardSession(card), os.urandom)
    if not outcome.ok:
        raise RuntimeError(f"authentication failed: {outcome}")
    return time.perf_counter() - started


def client_batch(urls: list[str], profile, pipe) -> None:
    """One client process: waits for the start, then authenticates all ``urls`` at once (a thread each) and
    sends back the wall times, or the first failure."""
    pipe.recv()
    try:
        with ThreadPoolExecutor(len(urls)) as pool:
            pipe.send(list(pool.map(lambda url: one(url, profile), urls)))
    except Exception as error:  # reported by the parent
        pipe.send(repr(error))


def concurrently(urls: list[str], profile, processes: int) -> tuple[list[float], float]:
    """All ``urls`` authenticated at once by ``processes`` client processes (each with its own GIL, so the
    clients' pure-Python PACE does not queue behind one lock); the wall times and the elapsed time."""
    context = multiprocessing.get_context("fork")
    batches = [urls[index::processes] for index in range(processes) if urls[index::processes]]
    pipes, workers = [], []
    for batch in batches:
        here, there = context.Pipe()
        worker = context.Process(target=client_batch, args=(batch, profile, there))
        worker.start()
        pipes.append(here)
        workers.append(worker)
    started = time.perf_counter()
    for pipe in pipes:
        pipe.send("go")
    answers = [pipe.recv() for pipe in pipes]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    failures = [answer for answer in answers if isinstance(answer, str)]
    if failures:
        raise RuntimeError(f"authentication failed: {failures[0]}")
    return [seconds for answer in answers for seconds in answer], elapsed


def loopback(runs: int, concurrent: int, processes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        child = Child(directory)
        try:
            for reference, url in child.ask("start", (3, True)):  # warm up
                one(url, child.profile)
            sessions = child.ask("start", (runs, True))
            before = child.ask("cpu")
            sequential = [one(url, child.profile) for _, url in sessions]
            cpu = (child.ask("cpu") - before) / runs
            assert child.ask("ok", [r for r, _ in sessions]) == runs

            sessions = child.ask("start", (concurrent, True))
            before = child.ask("cpu")
            times, elapsed = concurrently([url for _, url in sessions], child.profile, processes)
            concurrent_cpu = (child.ask("cpu") - before) / concurrent
            succeeded = child.ask("ok", [r for r, _ in sessions])

            release, parked = threading.Event(), threading.Semaphore(0)
            sessions = child.ask("start", (concurrent, True))
            idle = child.ask("rss")
            with ThreadPoolExecutor(concurrent) as pool:
                futures = [pool.submit(one, url, child.profile, ParkedCitizen(release, parked)) for _, url in sessions]
                for _ in sessions:
                    parked.acquire(timeout=120)
                busy = child.ask("rss")
                release.set()
                for future in futures:
                    future.result()
        finally:
            child.stop()
    return {
        "server_cpu_ms": 1000 * cpu,
        "sequential_median_ms": 1000 * statistics.median(sequential),
        "throughput": concurrent / elapsed,
        "p95_ms": 1000 * percentile(times, 0.95),
        "median_ms": 1000 * statistics.median(times),
        "succeeded": succeeded,
        "concurrent_cpu_ms": 1000 * concurrent_cpu,
        "kib_per_session": (busy - idle) / concurrent,
    }


# --- 3. AusweisApp --------------------------------------------------------------------------------------

def ausweisapp(runs: int) -> dict[str, tuple[float, float, int, int]]:
    from cryptography import x509

    from tests.support.ausweisapp import AusweisApp
    from tests.support.vectors import hex_value

    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        csca = x509.load_der_x509_certificate(hex_value("ausweisapp-simulator-csca", "csca"))
        deployed = deploy(Path(directory) / "eid", cscas=[csca])
        app = AusweisApp(Path(directory) / "app")
        app.start()
        try:
            for mode, use_psk in (("PSK", True), ("no-PSK", False)):
                times, races = [], 0
                while len(times) < runs and races < 10 * runs:  # most runs without the pause hit the race
                    started, url = deployed.start(REQUEST, use_psk)
                    run = app.authenticate(url, card_delay=0)  # no pause: the figure is AusweisApp's and ours
                    if run.card_race:
                        races += 1
                        app.restart()
                        continue
                    result = deployed.service.result(started.reference)
                    if not (run.ok and result is not None and result.ok):
                        raise RuntimeError(f"AusweisApp run failed: {run.result}, {result}")
                    times.append(run.seconds)
                figures[mode] = (1000 * statistics.median(times) if times else float("nan"),
                                 1000 * min(times, default=float("nan")), len(times), races)
        finally:
            app.stop()
            deployed.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the concurrent clients are spread over")
    parser.add_argument("--ausweisapp-runs", type=int, default=10)
    arguments = parser.parse_args()

    cpu, passive = server_part(arguments.runs)
    print(f"eID-Server's part of one complete authentication, in-process (parse, state machine with TA signature, "
          f"passive authentication, CA, SM; serialise; session JSON after every step): {1000 * cpu:.2f} ms CPU "
          f"(target <= 15 ms), of which passive authentication {1000 * passive:.2f} ms")

    figures = loopback(arguments.runs, arguments.concurrent, arguments.client_processes)
    print(f"eID-Server in a child process over loopback (TLS-PSK; the broker origin, our client and a virtual card "
          f"in this process), {arguments.runs} authentications one at a time:")
    print(f"  server CPU per authentication (TLS, HTTP, PAOS, crypto): {figures['server_cpu_ms']:.2f} ms")
    print(f"  wall time per authentication, client and card included:  median {figures['sequential_median_ms']:.1f} ms")
    print(f"  {arguments.concurrent} at once: {figures['succeeded']}/{arguments.concurrent} succeeded, "
          f"throughput {figures['throughput']:.1f}/s, median {figures['median_ms']:.0f} ms, "
          f"p95 {figures['p95_ms']:.0f} ms, server CPU {figures['concurrent_cpu_ms']:.1f} ms each (the clients and "
          f"cards in {arguments.client_processes} processes on the same {os.cpu_count()} cores as the server: their "
          f"pure-Python PACE is most of the work)")
    print(f"  memory per open session (parked at consent, TLS connection held): {figures['kib_per_session']:.0f} KiB")

    if arguments.ausweisapp_runs:
        for mode, (median, best, counted, races) in ausweisapp(arguments.ausweisapp_runs).items():
            print(f"AusweisApp2 1.26.2 + Simulator, complete flow, {mode}: RUN_AUTH to result median {median:.0f} ms "
                  f"(best {best:.0f} ms; {counted} runs, {races} hit by the card-connect race; target <= 300 ms)")


if __name__ == "__main__":
    main()
