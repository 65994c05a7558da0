"""One ephemeral Great Expectations context per process (and AGENCY_PULSE_HOME).

GX is slow to import (seconds), so it is imported here lazily and the context, the pandas
datasource, the suites and the validation definitions are built once and cached. Validation
results are kept in a filesystem store under ``quality/gx/validations`` so the Data Docs
site (``quality/docs``) lists every run, not only this process's.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

from agency_pulse import config, lake
from agency_pulse.validation.suites import build_expectations

DATASOURCE = "agency_pulse_lake"
DOCS_SITE = "agency_pulse"
RESULTS_STORE = "agency_pulse_validation_results"
# Enough examples to name a problem in a message; the full count is always in the result.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}

_lock = threading.Lock()
_runtimes: dict[Path, GxRuntime] = {}


class GxRuntime:
    """The GX objects for one AGENCY_PULSE_HOME: context, suites, validation definitions."""

    def __init__(self, paths: config.Paths):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX hashes every DataFrame for a batch marker nobody reads: ~1 s per million rows.
        pandas_execution_engine.HASH_THRESHOLD = 0

        self.paths = paths
        context = gx.get_context(mode="ephemeral")
        # Progress bars would flood task logs with one line per metric.
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.add_store(RESULTS_STORE, {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(paths.quality / "gx" / "validations")},
        })
        context.variables.validation_results_store_name = RESULTS_STORE
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(paths.data_docs)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        datasource = context.data_sources.add_pandas(DATASOURCE)
        self.context = context
        # Results stored since Data Docs were last built: the docs are rebuilt incrementally.
        self._unrendered: list = []
        self._suites_rendered = False
        self.definitions = {}
        for dataset in lake.SCHEMAS:
            batch_definition = datasource.add_dataframe_asset(dataset) \
                .add_batch_definition_whole_dataframe("whole_file")
            suite = context.suites.add(gx.ExpectationSuite(
                name=dataset, expectations=build_expectations(dataset)))
            self.definitions[dataset] = context.validation_definitions.add(
                gx.ValidationDefinition(name=dataset, data=batch_definition, suite=suite))

    def validate(self, dataset: str, frame, parameters: dict, *, run_name: str,
                 run_time: datetime, store: bool = True):
        """Validate one whole DataFrame against the dataset's suite; return the GX result.

        With ``store`` the result is kept for Data Docs; otherwise nothing is written.
        """
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        definition = self.definitions[dataset]
        if not store:
            batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            return batch.validate(definition.suite, result_format=RESULT_FORMAT,
                                  expectation_parameters=parameters)
        run_id = RunIdentifier(run_name=run_name, run_time=run_time)
        result = definition.run(batch_parameters={"dataframe": frame},
                                expectation_parameters=parameters, result_format=RESULT_FORMAT,
                                run_id=run_id)
        with _lock:
            self._unrendered.append(ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=dataset),
                # GX names a whole-DataFrame batch "{datasource}-{asset}".
                run_id=run_id, batch_identifier=f"{DATASOURCE}-{dataset}"))
        return result

    def build_data_docs(self) -> Path:
        """Render the results stored since the last build and the index (and, once per
        process, the suites). Returns the site's index.html; earlier pages stay as they are.
        """
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        with _lock:
            pending, self._unrendered = self._unrendered, []
            suites = [] if self._suites_rendered else [
                ExpectationSuiteIdentifier(name=dataset) for dataset in self.definitions]
        index = self.paths.data_docs / "index.html"
        if not suites and not pending and index.exists():
            return index
        # An empty list would make GX rebuild every page ever stored.
        self.context.build_data_docs(site_names=[DOCS_SITE],
                                     resource_identifiers=(suites + pending) or None)
        self._suites_rendered = True
        return index


def runtime(paths: config.Paths | None = None) -> GxRuntime:
    """The cached runtime for ``paths`` (default: the current AGENCY_PULSE_HOME)."""
    paths = paths or config.paths()
    with _lock:
        if paths.home not in _runtimes:
            _runtimes[paths.home] = GxRuntime(paths)
        return _runtimes[paths.home]
