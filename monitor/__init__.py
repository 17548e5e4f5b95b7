"""controlwatch: the daemon, its scheduler, collectors, exporter and evidence."""

__version__ = "0.1.0"
