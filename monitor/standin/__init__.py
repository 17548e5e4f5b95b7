"""The local GCP stand-in: the real Compute, Resource Manager and Logging REST shapes on 127.0.0.1.

Backed by a scenario file, validated against Google's discovery documents (the
`controlwatch[sandbox]` extra), with injectable faults and a request log. Importing this
package is cheap: discovery documents load on first use.
"""

from monitor.standin.control import ControlError, StandInControl
from monitor.standin.faults import Fault, FaultTable
from monitor.standin.requestlog import RequestRecord
from monitor.standin.scenario import Project, Scenario, ScenarioError, load_scenario
from monitor.standin.server import StandIn, serve

__all__ = [
    "ControlError",
    "Fault",
    "FaultTable",
    "Project",
    "RequestRecord",
    "Scenario",
    "ScenarioError",
    "StandIn",
    "StandInControl",
    "load_scenario",
    "serve",
]
