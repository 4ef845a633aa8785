"""How much the broker adds to the password hash in a login.

1. The raw argon2id verify rate at the configured parameters, on one core (core 0).
2. Full login requests per second through the real server: ``eid-broker serve`` (gunicorn, one worker,
   pinned to core 0 with ``taskset``), loaded from a separate process on core 1 over loopback. Each
   simulated browser fetches the login form once (session and CSRF token), then sends POST /login with the
   right password again and again: every request is a complete login (CSRF check, per-account throttle
   lookup, argon2id verify, new session identifier, authentication event, device cookie, JSON log lines).

Prints both rates and their ratio (target: >= 0.90). Usage:

    .venv/bin/python benchmarks/password_login.py [--seconds 10] [--rounds 3] [--clients 2] [--https]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from broker.config import load_settings
from broker.passwords import Argon2Parameters, PasswordHasher

USERNAME = "bench.citizen"
PASSWORD = "Benchmark-Passwort fuer die Anmeldung"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
EID_BROKER = str(Path(sys.executable).parent / "eid-broker")


def argon2_rate(parameters: Argon2Parameters, seconds: float) -> float:
    os.sched_setaffinity(0, {0})
    hasher = PasswordHasher(parameters)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        assert hasher.verify(stored, PASSWORD)
        count += 1
    return count / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoginClient:
    """One browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int, https: bool) -> None:
        if https:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self.connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", port, context=context, timeout=30)
        else:
            self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.origin = f"{'https' if https else 'http'}://127.0.0.1:{port}"

    def request(self, method: str, path: str, cookies: dict[str, str], body: bytes | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Referer": self.origin + "/login"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def open_form(self) -> None:
        self.cookies: dict[str, str] = {}
        status, page = self.request("GET", "/login", self.cookies)
        token = CSRF.search(page)
        assert status == 200 and token, status
        self.form = urllib.parse.urlencode({"csrf_token": token.group(1), "username": USERNAME,
                                            "password": PASSWORD}).encode()

    def login(self) -> None:
        status, _ = self.request("POST", "/login", self.cookies, self.form)
        assert status == 303, f"login answered {status}"


def load(port: int, https: bool, clients: int, warmup: float, seconds: float, result: multiprocessing.Queue) -> None:
    """The load generator (its own process, on core 1): logins per second over ``seconds``."""
    os.sched_setaffinity(0, {1})
    stop_at = time.perf_counter() + warmup + seconds
    measure_from = time.perf_counter() + warmup
    counts = [0] * clients
    errors: list[str] = []

    def run(index: int) -> None:
        client = LoginClient(port, https)
        try:
            client.open_form()
            while time.perf_counter() < stop_at:
                client.login()
                if time.perf_counter() >= measure_from:
                    counts[index] += 1
        except Exception as error:  # reported by the parent
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.put((sum(counts) / seconds, errors))


def server_rate(data_dir: Path, https: bool, clients: int, seconds: float, threads: int) -> float:
    # Production settings but for the per-address rate limit, which the load from one address would hit.
    env = {**os.environ, "EID_BROKER_RATELIMIT_ENABLED": "false"}
    env.pop("DATABASE_URL", None)
    subprocess.run([EID_BROKER, "--data-dir", str(data_dir), "db", "upgrade"], check=True, env=env,
                   capture_output=True)
    if not (data_dir / "bench-user").exists():
        subprocess.run([EID_BROKER, "--data-dir", str(data_dir), "users", "add", "--username", USERNAME,
                        "--email", "bench@example.de", "--password-stdin"], input=PASSWORD + "\n", text=True,
                       check=True, env=env, capture_output=True)
        (data_dir / "bench-user").touch()
    port = free_port()
    command = ["taskset", "-c", "0", EID_BROKER, "--data-dir", str(data_dir), "serve", "--port", str(port),
               "--workers", "1", "--threads", str(threads)]
    if not https:
        command.append("--http")
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("eid-broker serve did not start")
                time.sleep(0.1)
        queue: multiprocessing.Queue = multiprocessing.Queue()
        generator = multiprocessing.Process(target=load, args=(port, https, clients, 2.0, seconds, queue))
        generator.start()
        rate, errors = queue.get(timeout=seconds + 120)
        generator.join()
        if errors:
            raise RuntimeError(f"load errors: {errors[:3]}")
        return rate
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of both measurements; the best of each counts (other "
                             "processes on the machine only ever slow a round down)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent browsers in the load process")
    parser.add_argument("--https", action="store_true", help="through TLS (the self-signed certificate)")
    parser.add_argument("--threads", type=int, default=1,
                        help="gunicorn threads in the worker (more than one on one core makes concurrent "
                             "argon2 runs share the cache)")
    arguments = parser.parse_args()
    if os.cpu_count() is None or os.cpu_count() < 2 or shutil.which("taskset") is None:
        sys.exit("needs two cores and taskset (util-linux)")
    data_dir = Path(tempfile.mkdtemp(prefix="eid-broker-bench-"))
    try:
        settings = load_settings(data_dir, environ={})
        parameters = Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_cost_kib,
                                      settings.argon2_parallelism)
        raws, serveds = [], []
        for _ in range(arguments.rounds):
            raws.append(argon2_rate(parameters, arguments.seconds))
            serveds.append(server_rate(data_dir, arguments.https, arguments.clients, arguments.seconds,
                                       arguments.threads))
        raw, served = max(raws), max(serveds)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    scheme = "https" if arguments.https else "http"
    print(f"argon2id verify, m={parameters.memory_cost_kib} KiB t={parameters.time_cost} "
          f"p={parameters.parallelism}, one core:      {raw:7.2f} /s")
    print(f"login requests through gunicorn (1 worker with {arguments.threads} thread(s) on core 0, {scheme}, "
          f"{arguments.clients} clients on core 1): {served:7.2f} /s")
    print(f"(rounds: argon2 {', '.join(f'{r:.1f}' for r in raws)}; "
          f"logins {', '.join(f'{r:.1f}' for r in serveds)})")
    ratio = served / raw
    print(f"ratio: {ratio:.3f} (target >= 0.90: {'met' if ratio >= 0.90 else 'NOT met'})")


if __name__ == "__main__":
    main()
