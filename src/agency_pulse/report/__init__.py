"""The annual and monthly report, written from the marts (issue 4).

``write_report(year=..., month=..., home=...)`` writes ``reports/annual-YYYY.html`` (or
``monthly-YYYY-MM.html``), the same content as ``.md``, and the Markdown's charts as
SVG files in ``reports/<name>.charts/``. The rules behind every sentence are the
report's own Methods section (`document.METHODS`) and `narrative`'s docstring.
"""

from agency_pulse.report.writer import ReportPaths, latest_report, write_report

__all__ = ["ReportPaths", "latest_report", "write_report"]
