"""How much the broker adds to the password hash in a login.

1. The raw argon2id verify rate at the configured parameters, on one core (core 0).
2. Full login requests per second through the real server: ``eid-broker serve`` (gunicorn, one worker,
   pinned to core 0 with ``taskset``), loaded from a separate process on core 1 over loopback. Each
   simulated browser fetches the login form once (session and CSRF token), then sends POST /login with the
   right password again and again: every request is a complete login (CSRF check, per-address limit,
   per-account throttle lookup, argon2id verify, new session identifier, authentication event, device
   cookie, JSON log line), with the production settings but a per-address limit above the load's rate.

This machine's speed drifts by several per cent from second to second (other guests on the host), so the
two are measured in many short windows taken alternately — a raw-hash window on core 0 while the server
idles, then a login window — and each login window is compared with the raw-hash windows beside it. The
median of those ratios is the result: a blip spoils a window or two, not the figure. Both are measured the
same way: operations completed divided by the time from the window's start to the last completion.

argon2's speed also differs by a few per cent from one process to the next (where its 19 MiB land in
memory), for the raw-hash process as for the server's worker, and stays so for the process's life. So the
windows are taken in rounds, each with a new server and a new raw-hash process, and the median is over all
rounds' windows; each round's own median is printed too.

Prints both rates (medians of their windows) and the median ratio (target: >= 0.90). ``--floor`` serves
login_floor.py instead of the broker — a Flask view that parses the form, verifies the hash and redirects,
under the same gunicorn — to show what the framework alone takes. ``--with-floor`` runs a floor round
beside each broker round (their order alternating) and prints, besides both, what the broker's own work adds
to a login: each pair is taken within a minute, so the host's drift cancels out of their difference.
``--no-address-limit`` switches the application's per-address limit off (as where a reverse proxy limits per
address). Usage:

    .venv/bin/python benchmarks/password_login.py [--rounds 4] [--windows 8] [--window 1.5] [--clients 2]
                                                  [--https] [--floor | --with-floor]
                                                  [--no-address-limit]
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from broker.config import load_settings
from broker.db import make_engine
from broker.models import Account
from broker.passwords import Argon2Parameters, PasswordHasher
from broker.tls import ensure_certificate

USERNAME = "bench.citizen"
PASSWORD = "Benchmark-Passwort fuer die Anmeldung"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')
EID_BROKER = str(Path(sys.executable).parent / "eid-broker")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
SERVER_CORE, LOAD_CORE = 0, 1


def raw_hasher(parameters: Argon2Parameters, commands: multiprocessing.connection.Connection) -> None:
    """Its own process on the server's core: on each command, verifies for that many seconds and answers
    with the rate."""
    os.sched_setaffinity(0, {SERVER_CORE})
    hasher = PasswordHasher(parameters)
    stored = hasher.hash(PASSWORD)
    assert hasher.verify(stored, PASSWORD)
    while (seconds := commands.recv()) is not None:
        count, started = 0, time.perf_counter()
        stop_at = started + seconds
        while time.perf_counter() < stop_at:
            assert hasher.verify(stored, PASSWORD)
            count += 1
        commands.send(count / (time.perf_counter() - started))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoginClient:
    """One browser: a keep-alive connection and its cookies.

    HTTP/1.1 straight on a socket rather than through http.client (whose header parsing runs the email
    package): the load runs on the other core but shares the L3 cache with the server's, and the raw-hash
    windows run with that core idle, so the load should do and touch as little as it can. This one takes
    under 3 % of its core at 50 logins/s (top)."""

    def __init__(self, port: int, https: bool) -> None:
        self.port = port
        self.context: ssl.SSLContext | None = None
        if https:
            self.context = ssl.create_default_context()
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.origin = f"{'https' if https else 'http'}://127.0.0.1:{port}"
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.cookies: dict[str, str] = {}
        status, page = self.request("GET", "/login")
        token, next_path = CSRF.search(page), NEXT.search(page)
        assert status == 200 and token and next_path, status
        # What a browser posts: every field of the form, the hidden ones included.
        self.form = urllib.parse.urlencode({"csrf_token": token.group(1), "next": next_path.group(1),
                                            "username": USERNAME, "password": PASSWORD}).encode()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.context is not None:
            sock = self.context.wrap_socket(sock)
        self.buffer = b""
        return sock

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, str]:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Referer: {self.origin}/login"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        message = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in range(2):
            if self.sock is None:
                self.sock = self._connect()
            try:
                self.sock.sendall(message)
                return self._response()
            except (ConnectionError, EOFError):
                # gunicorn closes a keep-alive connection idle for 2 s (between windows): open a new one, as
                # a browser would (the request never reached the application).
                self.sock.close()
                self.sock = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _receive(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data

    def _response(self) -> tuple[int, str]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        self.buffer = self.buffer[end + 4:]
        status, length, close = int(lines[0].split(" ", 2)[1]), 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                cookie, _, _ = value.partition(";")
                cookie_name, _, cookie_value = cookie.partition("=")
                self.cookies[cookie_name] = cookie_value
            elif name == "connection" and value.lower() == "close":
                close = True
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if close and self.sock is not None:
            self.sock.close()
            self.sock = None
        return status, body.decode("utf-8", "replace")

    def login(self) -> None:
        status, _ = self.request("POST", "/login", self.form)
        assert status == 303, f"login answered {status}"


def load(port: int, https: bool, clients: int, commands: multiprocessing.connection.Connection) -> None:
    """The load generator (its own process, on the other core): on each command, ``clients`` browsers log
    in again and again for that many seconds; answers with logins per second, or an error."""
    os.sched_setaffinity(0, {LOAD_CORE})
    try:
        browsers = [LoginClient(port, https) for _ in range(clients)]
    except Exception as error:  # reported by the parent
        commands.send(repr(error))
        return
    commands.send("ready")
    while (seconds := commands.recv()) is not None:
        counts = [0] * clients
        finished = [0.0] * clients
        errors: list[str] = []
        started = time.perf_counter()
        stop_at = started + seconds

        def run(index: int) -> None:
            try:
                while time.perf_counter() < stop_at:
                    browsers[index].login()
                    counts[index] += 1
                    finished[index] = time.perf_counter()
            except Exception as error:  # reported by the parent
                errors.append(repr(error))

        threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        commands.send(errors[0] if errors else sum(counts) / (max(finished) - started))


SERVER_ENV = {"EID_BROKER_RATELIMIT_LOGIN": "100000000 per minute; 1000000000 per hour"}
"""Production settings, but the per-address login limit (Flask-Limiter, two limits as by default) raised above
what the load from one address reaches: every login is checked and counted against both."""
NO_ADDRESS_LIMIT_ENV = {"EID_BROKER_RATELIMIT_ENABLED": "false"}
"""``--no-address-limit``: no per-address limit in the application, as where a reverse proxy limits per address
(the per-account throttle runs on every login all the same)."""


def prepare_data(data_dir: Path) -> None:
    env = {**os.environ, **SERVER_ENV}
    env.pop("DATABASE_URL", None)
    subprocess.run([EID_BROKER, "--data-dir", str(data_dir), "db", "upgrade"], check=True, env=env,
                   capture_output=True)
    subprocess.run([EID_BROKER, "--data-dir", str(data_dir), "users", "add", "--username", USERNAME,
                    "--email", "bench@example.de", "--password-stdin"], input=PASSWORD + "\n", text=True,
                   check=True, env=env, capture_output=True)


def server_command(data_dir: Path, port: int, https: bool, threads: int, floor: bool) -> list[str]:
    if floor:  # the minimal Flask login of login_floor.py, under the same gunicorn settings
        command = [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
                   "--threads", str(threads), "--chdir", str(Path(__file__).parent), "login_floor:create_app()"]
        if https:
            files = ensure_certificate(data_dir)
            command += ["--certfile", str(files.certificate), "--keyfile", str(files.key)]
        return command
    command = [EID_BROKER, "--data-dir", str(data_dir), "serve", "--port", str(port), "--workers", "1",
               "--threads", str(threads)]
    return command if https else [*command, "--http"]


def start_server(data_dir: Path, https: bool, threads: int, floor: bool,
                 address_limit: bool = True) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, **(SERVER_ENV if address_limit else NO_ADDRESS_LIMIT_ENV), "EID_BROKER_HOME": str(data_dir),
           "EID_BROKER_BENCH_HASH": stored_hash(data_dir)}
    env.pop("DATABASE_URL", None)
    port = free_port()
    command = ["taskset", "-c", str(SERVER_CORE), *server_command(data_dir, port, https, threads, floor)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"{command[3]} did not start") from None
            time.sleep(0.1)


def stored_hash(data_dir: Path) -> str:
    """The benchmark account's password hash, as the broker stored it."""
    settings = load_settings(data_dir, environ={})
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Account.password_hash).where(Account.username == USERNAME))
    finally:
        engine.dispose()


def ask(channel: multiprocessing.connection.Connection, seconds: float) -> float:
    channel.send(seconds)
    answer = channel.recv()
    if isinstance(answer, str):
        raise RuntimeError(f"load error: {answer}")
    return answer


@dataclass
class Round:
    """One server process and one raw-hash process: ``raws`` has one window more than ``logins``, each login
    window lying between two raw ones."""

    raws: list[float]
    logins: list[float]

    def ratios(self) -> list[float]:
        """Each login window against the mean of the raw windows before and after it."""
        return [login / ((self.raws[index] + self.raws[index + 1]) / 2) for index, login in enumerate(self.logins)]


def measure_round(parameters: Argon2Parameters, data_dir: Path, https: bool, clients: int, threads: int,
                  windows: int, window: float, floor: bool, address_limit: bool = True) -> Round:
    """``windows`` + 1 raw-hash windows with a login window between each two (after a pair that warms up)."""
    server, port = start_server(data_dir, https, threads, floor, address_limit)
    hasher_end, hasher_here = multiprocessing.Pipe()
    load_end, load_here = multiprocessing.Pipe()
    hasher = multiprocessing.Process(target=raw_hasher, args=(parameters, hasher_end))
    generator = multiprocessing.Process(target=load, args=(port, https, clients, load_end))
    try:
        hasher.start()
        generator.start()
        if (ready := load_here.recv()) != "ready":
            raise RuntimeError(f"load error: {ready}")
        ask(hasher_here, window)
        ask(load_here, window)
        measured = Round(raws=[ask(hasher_here, window)], logins=[])
        for _ in range(windows):
            measured.logins.append(ask(load_here, window))
            measured.raws.append(ask(hasher_here, window))
        return measured
    finally:
        for channel in (hasher_here, load_here):
            try:
                channel.send(None)
            except OSError:
                pass
        hasher.join(timeout=30)
        generator.join(timeout=60)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def median_ratio(measured: Round) -> float:
    return statistics.median(measured.ratios())


def report(served_by: str, rounds: list[Round], parameters: Argon2Parameters, arguments: argparse.Namespace,
           floor: bool) -> None:
    raws = [rate for measured in rounds for rate in measured.raws]
    logins = [rate for measured in rounds for rate in measured.logins]
    ratios = [ratio for measured in rounds for ratio in measured.ratios()]
    raw, served, ratio = statistics.median(raws), statistics.median(logins), statistics.median(ratios)
    low, _, high = statistics.quantiles(ratios, n=4)
    scheme = "https" if arguments.https else "http"
    print(f"argon2id verify, m={parameters.memory_cost_kib} KiB t={parameters.time_cost} "
          f"p={parameters.parallelism}, one core:      {raw:7.2f} /s  (median of {len(raws)} windows, "
          f"{min(raws):.1f}–{max(raws):.1f})")
    print(f"login requests to {served_by} through gunicorn (1 worker with {arguments.threads} thread(s) on core "
          f"{SERVER_CORE}, {scheme}, {arguments.clients} clients on core {LOAD_CORE}): {served:7.2f} /s  (median of "
          f"{len(logins)} windows, {min(logins):.1f}–{max(logins):.1f})")
    print(f"per login: {1000 / served:.2f} ms, of which the hash {1000 / raw:.2f} ms")
    print(f"ratio per round (new processes each): {', '.join(f'{median_ratio(measured):.3f}' for measured in rounds)}")
    verdict = "" if floor else f"; target >= 0.90: {'met' if ratio >= 0.90 else 'NOT met'}"
    print(f"ratio: {ratio:.3f} (median of {len(ratios)} adjacent-window ratios; quartiles {low:.3f}–{high:.3f}"
          f"{verdict})")


def report_own_work(broker: list[Round], floor: list[Round]) -> None:
    """The broker's own work per login, from rounds paired with the floor's: both ratios of a pair were taken
    within the same minute, so the host's drift (which moves either by a few per cent over minutes) cancels.
    1/ratio is a login's time in hash times; the broker's less the floor's is what the broker adds."""
    hash_seconds = 1 / statistics.median([rate for measured in broker + floor for rate in measured.raws])
    added = [1 / median_ratio(ours) - 1 / median_ratio(bare) for ours, bare in zip(broker, floor, strict=True)]
    share = statistics.median(added)
    print(f"the broker's own work, paired round by round with the floor: {share * hash_seconds * 1000:.2f} ms per "
          f"login, {100 * share:.1f} % of the hash (per pair: {', '.join(f'{100 * x:.1f} %' for x in added)}); "
          f"gunicorn and Flask alone: {100 * (1 / statistics.median([median_ratio(m) for m in floor]) - 1):.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4,
                        help="rounds, each with a new server and a new raw-hash process")
    parser.add_argument("--windows", type=int, default=8, help="login windows per round (each between two raw ones)")
    parser.add_argument("--window", type=float, default=1.5, help="seconds per window")
    parser.add_argument("--clients", type=int, default=2, help="concurrent browsers in the load process")
    parser.add_argument("--https", action="store_true", help="through TLS (the self-signed certificate)")
    served = parser.add_mutually_exclusive_group()
    served.add_argument("--floor", action="store_true",
                        help="serve login_floor.py (Flask, the hash, a redirect) instead of the broker: what the "
                             "framework alone takes")
    served.add_argument("--with-floor", action="store_true",
                        help="also a floor round beside each broker round (their order alternating), and the "
                             "broker's own work per login from the pairs")
    parser.add_argument("--no-address-limit", action="store_true",
                        help="no per-address limit in the application, as where a reverse proxy limits per address")
    parser.add_argument("--threads", type=int, default=1,
                        help="gunicorn threads in the worker (more than one on one core makes concurrent "
                             "argon2 runs share the cache)")
    arguments = parser.parse_args()
    if os.cpu_count() is None or os.cpu_count() < 2 or shutil.which("taskset") is None:
        sys.exit("needs two cores and taskset (util-linux)")
    os.sched_setaffinity(0, {LOAD_CORE})
    data_dir = Path(tempfile.mkdtemp(prefix="eid-broker-bench-"))
    served_by = {False: f"the broker (per-address limit {'off' if arguments.no_address_limit else 'on'})",
                 True: "the minimal Flask login of login_floor.py"}
    rounds: dict[bool, list[Round]] = {False: [], True: []}
    try:
        settings = load_settings(data_dir, environ={})
        parameters = Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_cost_kib,
                                      settings.argon2_parallelism)
        prepare_data(data_dir)
        for index in range(arguments.rounds):
            order = [arguments.floor]
            if arguments.with_floor:
                order = [False, True] if index % 2 == 0 else [True, False]
            for floor in order:
                rounds[floor].append(measure_round(parameters, data_dir, arguments.https, arguments.clients,
                                                   arguments.threads, arguments.windows, arguments.window, floor,
                                                   not arguments.no_address_limit))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    for floor in (False, True):
        if rounds[floor]:
            if arguments.with_floor:
                print(f"--- {served_by[floor]}")
            report(served_by[floor], rounds[floor], parameters, arguments, floor)
    if arguments.with_floor:
        report_own_work(rounds[False], rounds[True])


if __name__ == "__main__":
    main()
