"""Real SIP on the wire (issue 12): the Front End's chain as a loopback SIP proxy and registrar.

``Server(fe)`` runs the same FrontEnd, chain, scripts and Dispatch handlers as ``trace``; real
parties (registered over the wire, or bound to a loopback contact) get real packets, the lab's
simulated ones answer in-process. ``agent`` has a small user agent for notebooks and tests.
This layer sits beside frontend/: it imports the simulator, never the view.
"""
from .server import Server
from .transaction import Timing

__all__ = ["Server", "Timing"]
