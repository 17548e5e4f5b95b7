"""The stand-in serving the synthetic organisation from its own process, with its serving time counted.

A daemon measured against a stand-in in its own process would share the interpreter's
lock with it and be charged for the stand-in's work. Here the stand-in runs as
`python -m benchmarks.standin_process`, on 127.0.0.1 only, generating the organisation
itself (the same document for the same size, `benchmarks/synthetic_org.py`) and
validating it as any scenario is. Every request's handling is timed, so the benchmark
can report the stand-in's own serving time apart from the daemon's: `GET /_bench/stats`
answers the summed handler seconds, the requests by API method (from the stand-in's
request log), and the process's CPU seconds; `POST /_bench/reset` starts counting anew.

`StandInProcess` starts and stops it from the benchmark, every wait bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATS_PATH = "/_bench/stats"
RESET_PATH = "/_bench/reset"
LOGGED = 1_000_000  # requests the stand-in keeps in its log between resets


def instrumented_standin(scenario: Any) -> Any:
    """A `StandIn` whose every request is timed, with the `/_bench/` routes answered before the API's."""
    from monitor.standin import StandIn
    from monitor.standin.replies import Reply
    from monitor.standin.requestlog import RequestLog

    class TimedStandIn(StandIn):
        def __init__(self, scenario: Any) -> None:
            super().__init__(scenario, shift_time=True)
            self._log = RequestLog(limit=LOGGED)  # the default 10,000 is less than one sweep of 1,000 projects
            self.handler_seconds = 0.0
            self.handled = 0
            self._cpu_at_reset = _cpu_seconds()
            self._counting = threading.Lock()

        def _handle(self, h: Any) -> None:
            if h.path.startswith("/_bench/"):
                self._send(h, self._bench(h.command, h.path))
                return
            start = time.perf_counter()
            try:
                super()._handle(h)
            finally:
                spent = time.perf_counter() - start
                with self._counting:
                    self.handler_seconds += spent
                    self.handled += 1

        def _bench(self, verb: str, path: str) -> Any:
            if (verb, path) == ("POST", RESET_PATH):
                self.reset()
                with self._counting:
                    self.handler_seconds, self.handled = 0.0, 0
                    self._cpu_at_reset = _cpu_seconds()
                return Reply(200, {})
            if (verb, path) == ("GET", STATS_PATH):
                records = self.requests
                with self._counting:
                    seconds, handled = self.handler_seconds, self.handled
                return Reply(
                    200,
                    {
                        "handler_seconds": seconds,
                        "handled": handled,
                        "cpu_seconds": _cpu_seconds() - self._cpu_at_reset,
                        "by_method": dict(Counter(r.method or "" for r in records)),
                        "statuses": {str(k): v for k, v in Counter(r.status for r in records).items()},
                        "first": min((r.time for r in records), default=None),
                        "last": max((r.time for r in records), default=None),
                    },
                )
            return Reply(404, {"error": {"code": 404, "message": f"no bench route {verb} {path}"}})

    return TimedStandIn(scenario)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def serve(projects: int, per_project: int, export: Path | None) -> int:
    """Generate, (export,) load and serve; print the URL on one stdout line; run until SIGTERM."""
    from benchmarks.synthetic_org import organisation
    from monitor.standin import load_scenario

    started = time.perf_counter()
    document = organisation(projects, per_project)
    generated = time.perf_counter() - started
    if export is not None:
        with export.open("w") as out:
            json.dump(document, out, separators=(",", ":"))
    scenario = load_scenario(document)
    del document
    loaded = time.perf_counter() - started
    standin = instrumented_standin(scenario)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    url = standin.start()
    print(json.dumps({"url": url, "generated_s": generated, "loaded_s": loaded}), flush=True)
    try:
        while not stop.wait(0.2):
            if os.getppid() == 1:  # the benchmark died without stopping us
                break
    finally:
        standin.stop()
    return 0


class StandInProcess:
    """`python -m benchmarks.standin_process` as a child, its URL read within `timeout` seconds."""

    def __init__(self, projects: int, per_project: int = 600, export: Path | None = None, timeout: float = 600.0):
        command = [sys.executable, "-m", "benchmarks.standin_process", str(projects), "--per-project", str(per_project)]
        if export is not None:
            command += ["--export", str(export)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            self.info = self._read_first_line(timeout)
        except BaseException:
            self.stop()
            raise
        self.url: str = self.info["url"]

    def _read_first_line(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stand-in process exited {self.process.returncode} before serving")
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline()
                found: dict[str, Any] = json.loads(line)
                return found
        raise TimeoutError(f"the stand-in process did not serve within {timeout:.0f}s")

    def _call(self, verb: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method=verb, data=b"" if verb == "POST" else None)
        with urllib.request.urlopen(request, timeout=60) as answer:
            found: dict[str, Any] = json.loads(answer.read())
            return found

    def stats(self) -> dict[str, Any]:
        return self._call("GET", STATS_PATH)

    def reset(self) -> None:
        self._call("POST", RESET_PATH)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> StandInProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.standin_process", description=__doc__)
    parser.add_argument("projects", type=int)
    parser.add_argument("--per-project", type=int, default=600)
    parser.add_argument("--export", type=Path, help="also write the scenario as JSON here")
    args = parser.parse_args(argv)
    return serve(args.projects, args.per_project, args.export)


if __name__ == "__main__":
    sys.exit(main())
