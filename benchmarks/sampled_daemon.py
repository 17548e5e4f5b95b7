"""`controlwatch run` with a stack sampler inside: where a daemon's time goes, every thread counted.

cProfile follows one thread, and the daemon's work happens on the scheduler's workers;
py-spy is not always installed. So this launcher starts a thread that every `INTERVAL`
seconds reads every other thread's stack (`sys._current_frames`), skips the threads
waiting (a leaf frame that blocks: a lock, a socket read, a selector, a sleep) and counts,
for each busy sample, every function of this repository on the stack (inclusive) and the
library the leaf frame is in (self). It writes the counts as JSON to the path in
`CONTROLWATCH_BENCH_PROFILE_OUT` every 5 seconds and at exit (a daemon that abandons
runs at stop leaves through `os._exit`, past any `finally`). Used by `benchmarks/org_scale.py` when
`CONTROLWATCH_BENCH_PROFILE=1`: `python -m benchmarks.sampled_daemon run --config …`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

ROOT = str(Path(__file__).resolve().parents[1])
INTERVAL = 0.005
DUMP_EVERY = 5.0  # seconds: a daemon leaving with os._exit (runs abandoned at stop) skips `finally`
#: leaf functions of a thread that is waiting, not working
WAITING = frozenset(
    {
        "wait", "_wait_for_tstate_lock", "select", "poll", "accept", "readinto", "recv_into", "recv", "sleep",
        "get", "_recv_bytes", "serve_forever", "acquire", "readline", "_worker", "_read_status", "join",
        "wait_for", "_main_loop", "_process_jobs",
    }
)  # fmt: skip
LIBRARIES = (
    "google/protobuf", "proto/", "google/cloud/compute", "google/api_core", "google/auth", "requests/", "urllib3/",
    "http/", "json/", "sqlite3", "structlog", "prometheus_client", "apscheduler", "pydantic", "email/", "rfc8785",
)  # fmt: skip


class Sampler:
    def __init__(self, out: str | None) -> None:
        self.out = out
        self.inclusive: Counter[str] = Counter()
        self.leaf: Counter[str] = Counter()
        self.functions: Counter[str] = Counter()
        self.busy = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        me = threading.get_ident()
        last_dump = time.monotonic()
        while not self._stop.wait(INTERVAL):
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    self._sample(frame)
            if self.out and time.monotonic() - last_dump > DUMP_EVERY:
                self.dump(self.out, final=False)
                last_dump = time.monotonic()

    def _sample(self, frame: FrameType) -> None:
        self.samples += 1
        if frame.f_code.co_name in WAITING:
            return
        self.busy += 1
        self.leaf[_library(frame.f_code.co_filename)] += 1
        self.functions[_function(frame)] += 1
        seen: set[str] = set()
        current: FrameType | None = frame
        while current is not None:
            filename = current.f_code.co_filename
            if filename.startswith(ROOT):
                module = filename[len(ROOT) + 1 :].removesuffix(".py").replace("/", ".")
                seen.add(f"{module}.{current.f_code.co_qualname}")
            current = current.f_back
        self.inclusive.update(seen)

    def dump(self, path: str, final: bool = True) -> None:
        if final:
            self._stop.set()
        document = {
            "samples": self.samples,
            "busy": self.busy,
            "interval": INTERVAL,
            "inclusive": dict(self.inclusive.most_common(400)),
            "leaf": dict(self.leaf.most_common()),
            "functions": dict(self.functions.most_common(60)),
        }
        partial = Path(path + ".part")
        partial.write_text(json.dumps(document))
        partial.replace(path)


def _function(frame: FrameType) -> str:
    """The busy leaf frame's function, with its file relative to the repository or site-packages."""
    filename = frame.f_code.co_filename
    for root in (ROOT + "/", "site-packages/", "python3.11/"):
        if root in filename:
            filename = filename.split(root, 1)[1]
            break
    return f"{filename}:{frame.f_code.co_qualname}"


def _library(filename: str) -> str:
    if filename.startswith(ROOT):
        return "controlwatch (own code)"
    for name in LIBRARIES:
        if name in filename:
            return name.rstrip("/")
    return "other"


def main() -> None:
    out = os.environ.get("CONTROLWATCH_BENCH_PROFILE_OUT")
    sampler = Sampler(out)
    sampler.start()
    started = time.monotonic()
    from monitor.commands.main import main as controlwatch

    sys.argv = ["controlwatch", *sys.argv[1:]]
    try:
        controlwatch()
    finally:
        if out:
            sampler.dump(out)
            print(f"profile: {time.monotonic() - started:.0f}s sampled to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
