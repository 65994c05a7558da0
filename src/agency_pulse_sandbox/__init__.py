"""The platform sandbox: a local HTTP server answering the five platforms' real APIs.

```python
from agency_pulse_sandbox import run_sandbox
with run_sandbox(date=date(2026, 11, 27), seed=7) as sb:
    sb.url      # "http://127.0.0.1:PORT"; platforms under /graph.facebook.com/v24.0, ...
    sb.set(date=..., faults=...)
    sb.stats()
```
"""

from agency_pulse_sandbox.cli import main
from agency_pulse_sandbox.server import SandboxServer, run_sandbox

__all__ = ["SandboxServer", "main", "run_sandbox"]
