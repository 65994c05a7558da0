"""The annual and monthly report, written from the marts (issue 4).

``write_report(year=..., month=..., home=...)`` writes ``reports/annual-YYYY.html`` (or
``monthly-YYYY-MM.html``), the same content as ``.md``, and the Markdown's charts as
SVG files in ``reports/<name>.charts/``. The rules behind every sentence are the
report's own Methods section (`document.METHODS`) and `narrative`'s docstring.
"""

__all__ = ["ReportPaths", "latest_report", "write_report"]


def __getattr__(name: str):
    # imported on first use: the warehouse publishes through report.warehouse_snapshot and
    # must not pay for the writer's charts (matplotlib) on every build
    if name in __all__:
        from agency_pulse.report import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
