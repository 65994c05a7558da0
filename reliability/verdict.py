"""What a scenario found: named checks with figures, rolled up into one table row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Check:
    """One expectation of a scenario and what was observed (``detail`` carries the figures)."""

    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.passed else 'FAILED'} {self.name}: {self.detail}"


@dataclass
class ScenarioResult:
    """One row of the reliability table."""

    name: str
    injected: str
    expected: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # the scenario itself broke (an unexpected exception)

    def check(self, name: str, passed: bool, detail: str) -> bool:
        """Record one expectation; returns ``passed`` so callers can branch on it."""
        self.checks.append(Check(name, bool(passed), detail))
        return bool(passed)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def happened(self) -> str:
        lines = [c.line() for c in self.checks]
        if self.error:
            lines.append(f"scenario error: {self.error}")
        return "; ".join(lines) or "nothing was checked"

    def failures(self) -> list[str]:
        found = [c.line() for c in self.checks if not c.passed]
        if self.error:
            found.append(f"scenario error: {self.error}")
        if not self.checks and not self.error:
            found.append("nothing was checked")
        return found
