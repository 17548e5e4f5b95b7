"""The process and Python runtime families every Prometheus exporter carries (`process_*`,
`python_info`, `python_gc_*`), in the daemon's own registry.

Operators alert on memory, file descriptors and restarts with the usual kube-prometheus and
node rules; prometheus_client's collectors read `/proc/self` and the interpreter at scrape
time, cost microseconds, and add no label that could grow.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector


def register_runtime_collectors(registry: CollectorRegistry) -> None:
    """Add the process (Linux `/proc`), platform and garbage-collector families to `registry`."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
