"""eID-Server transport figures: CPU per conversation, loopback TLS-PSK under load, AusweisApp end to end.

    .venv/bin/python benchmarks/eid_server.py [--conversations 200] [--parallel 20] [--ausweisapp-runs 10]

The conversation measured is what the server does today: TC token download, TLS-PSK handshake, StartPAOS →
DIDAuthenticate(EAC1InputType), EAC1OutputType → StartPAOSResponse. (Terminal Authentication, Chip
Authentication and the secure-messaging Transmits come later and will add to these figures.)

1. the pure state machine: parse + step + serialise of both client messages (no TLS);
2. the listener in a child process, driven over loopback by in-process clients: the child's CPU time per
   conversation (both TLS handshakes included), wall time per conversation one at a time, and with
   ``--parallel`` clients at once: throughput and p95;
3. Debian's AusweisApp2 with its Simulator card: RUN_AUTH to the AUTH result, per TLS mode (runs hit by the
   Simulator's card-connect race are counted and left out).
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import resource
import socket
import ssl
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eid import paos, tc_token  # noqa: E402
from eid.paos import DidAuthenticateResponse, PaosEnvelope, Result  # noqa: E402
from eid.server import conversation, session  # noqa: E402
from eid.server.certificate import create_self_signed  # noqa: E402
from eid.server.listener import EidListener  # noqa: E402
from eid.server.service import EidService  # noqa: E402
from eid.server.session import MemorySessionStore  # noqa: E402
from eid.server.states import StepContext  # noqa: E402
from eid.server.tls import PSK_CIPHERS  # noqa: E402
from tests.eid.server import terminal_pki  # noqa: E402
from tests.eid.server.common import eac1_output, start_paos  # noqa: E402
from tests.support.network import free_port  # noqa: E402


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- 1. the pure state machine -----------------------------------------------------------------------------

def pure_steps(terminal, count: int) -> float:
    context = StepContext(terminal, now, os.urandom)
    start = time.process_time()
    for _ in range(count):
        current = session.begin(refresh_address="https://b.example/r", communication_error_address=None,
                                use_psk=True, now=now(), rng=os.urandom, token_lifetime=datetime.timedelta(minutes=5),
                                lifetime=datetime.timedelta(minutes=15))
        current, reply = conversation.step(current, paos.parse(paos.serialise(start_paos(current.session_identifier))),
                                           context)
        request = paos.parse(paos.serialise(reply))
        answer = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", request.message_id)
        current, reply = conversation.step(current, paos.parse(paos.serialise(answer)), context)
        paos.serialise(reply)
    return (time.process_time() - start) / count


# --- 2. the listener in a child process --------------------------------------------------------------------

def serve(directory: Path, port: int, count: int, pipe) -> None:
    credentials = create_self_signed()
    certificate_path, key_path = credentials.write(directory)
    origin = f"https://127.0.0.1:{port}"
    pki = terminal_pki.create(credentials.certificate_der, origin)
    service = EidService(store=MemorySessionStore(), terminal=pki.terminal, public_url=origin, now=now, rng=os.urandom)
    urls = [service.start_session(f"{origin}/refresh/{i}").tc_token_url for i in range(count)]
    listener = EidListener(service, ("127.0.0.1", port), certificate_path, key_path)
    listener.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send((certificate_path, urls))
    pipe.recv()  # the parent is done
    after = resource.getrusage(resource.RUSAGE_SELF)
    listener.stop()
    pipe.send((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


class Client:
    def __init__(self, certificate_path: Path, port: int) -> None:
        self.port = port
        self.plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.plain.load_verify_locations(certificate_path)

    def _exchange(self, connection: ssl.SSLSocket, request: bytes) -> bytes:
        connection.sendall(request)
        import http.client
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body!r}")
        return body

    def conversation(self, url: str) -> float:
        started = time.perf_counter()
        path = url.split(str(self.port), 1)[1]
        with self.plain.wrap_socket(socket.create_connection(("127.0.0.1", self.port)),
                                    server_hostname="127.0.0.1") as download:
            token = tc_token.parse(self._exchange(download, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_ciphers(PSK_CIPHERS[0])
        context.set_psk_client_callback(lambda hint: (token.session_identifier, token.psk))
        with context.wrap_socket(socket.create_connection(("127.0.0.1", self.port))) as channel:
            channel.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def post(envelope: PaosEnvelope) -> PaosEnvelope:
                body = paos.serialise(envelope)
                head = (f"POST /paos HTTP/1.1\r\nHost: x\r\nrequestid: {token.session_identifier}\r\n"
                        f"Content-Type: application/vnd.paos+xml\r\nContent-Length: {len(body)}\r\n\r\n")
                return paos.parse(self._exchange(channel, head.encode() + body))

            request = post(start_paos(token.session_identifier))
            final = post(PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2",
                                      request.message_id))
            if not isinstance(final.message, paos.StartPaosResponse):
                raise RuntimeError("conversation did not end with StartPAOSResponse")
        return time.perf_counter() - started


def loopback(conversations: int, parallel: int) -> dict[str, float]:
    port = free_port()
    parent, child = multiprocessing.Pipe()
    with tempfile.TemporaryDirectory() as directory:
        process = multiprocessing.get_context("fork").Process(target=serve, args=(Path(directory), port,
                                                                                   2 * conversations, child))
        process.start()
        certificate_path, urls = parent.recv()
        client = Client(certificate_path, port)
        sequential = [client.conversation(url) for url in urls[:conversations]]
        started = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            concurrent = list(pool.map(client.conversation, urls[conversations:]))
        elapsed = time.perf_counter() - started
        parent.send("done")
        cpu = parent.recv()
        process.join()
    return {
        "server_cpu_ms": 1000 * cpu / (2 * conversations),
        "sequential_median_ms": 1000 * statistics.median(sequential),
        "parallel_throughput": conversations / elapsed,
        "parallel_p95_ms": 1000 * percentile(concurrent, 0.95),
    }


# --- 3. AusweisApp --------------------------------------------------------------------------------------

def ausweisapp(runs: int) -> dict[str, tuple[float, float, int, int]]:
    from tests.support.ausweisapp import AusweisApp

    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        origin = f"https://127.0.0.1:{port}"
        credentials = create_self_signed()
        certificate_path, key_path = credentials.write(Path(directory) / "tls")
        pki = terminal_pki.create(credentials.certificate_der, origin)
        service = EidService(store=MemorySessionStore(), terminal=pki.terminal, public_url=origin, now=now,
                             rng=os.urandom)
        listener = EidListener(service, ("127.0.0.1", port), certificate_path, key_path)
        listener.start()
        app = AusweisApp(Path(directory) / "app")
        app.start()
        try:
            for mode, use_psk in (("PSK", True), ("no-PSK", False)):
                times, races = [], 0
                for _ in range(runs):
                    started = service.start_session(f"{origin}/refresh", None, use_psk)
                    run = app.authenticate(started.tc_token_url)
                    if run.card_race:
                        races += 1
                        app.restart()
                    elif service.session(started.session_identifier).state.reason.startswith("PACE completed"):
                        times.append(run.seconds)
                    else:
                        raise RuntimeError(f"AusweisApp run failed: {service.session(started.session_identifier)}")
                figures[mode] = (1000 * statistics.median(times) if times else float("nan"),
                                 1000 * min(times, default=float("nan")), len(times), races)
        finally:
            app.stop()
            listener.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--ausweisapp-runs", type=int, default=10)
    arguments = parser.parse_args()

    credentials = create_self_signed()
    terminal = terminal_pki.create(credentials.certificate_der, "https://127.0.0.1:8443").terminal
    print(f"pure state machine (parse, step, serialise; 2 client messages): "
          f"{1000 * pure_steps(terminal, arguments.conversations):.2f} ms CPU per conversation")

    figures = loopback(arguments.conversations, arguments.parallel)
    print(f"listener over loopback TLS (TC token + RSA-PSK handshake + 2 PAOS round trips), "
          f"{arguments.conversations} conversations:")
    print(f"  server CPU per conversation:   {figures['server_cpu_ms']:.2f} ms")
    print(f"  one at a time, wall median:    {figures['sequential_median_ms']:.2f} ms")
    print(f"  {arguments.parallel} at once: throughput {figures['parallel_throughput']:.0f}/s, "
          f"p95 {figures['parallel_p95_ms']:.1f} ms")

    if arguments.ausweisapp_runs:
        for mode, (median, best, counted, races) in ausweisapp(arguments.ausweisapp_runs).items():
            print(f"AusweisApp2 1.26.2 + Simulator, {mode}: RUN_AUTH to result median {median:.0f} ms "
                  f"(best {best:.0f} ms; {counted} runs, {races} hit by the card-connect race)")


if __name__ == "__main__":
    main()
