"""The warehouse's SQL models as a dbt project (``include/dbt``), run in-process.

``run(con)`` runs every model of the project on an open DuckDB connection, inside whatever
transaction the caller holds: dbt-duckdb is handed that connection instead of opening the
file itself, so ``warehouse.build`` stays one transaction (all or nothing) and the SQL tests
can run the models on an in-memory database. dbt's own BEGIN/COMMIT are skipped on it.

The project is parsed once per process and database name (``manifest``); a run reuses the
parsed manifest, so it costs the models' SQL plus dbt's bookkeeping, not a parse. dbt never
reaches the network here: no version check, no anonymous usage statistics.

``write_manifest()`` writes ``target/manifest.json`` (for the Airflow DAG's task group and
``dbt docs``); ``docs_generate()`` writes the static documentation site.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agency_pulse import config

PROJECT_DIR = config.PROJECT_ROOT / "include" / "dbt"
MODELS_DIR = PROJECT_DIR / "models"
# The environment variable the profile reads first for the warehouse file's path (then the
# AGENCY_PULSE_WAREHOUSE setting): set only around an in-process invocation, so the
# setting itself is never changed under another thread.
WAREHOUSE_PATH_VARIABLE = "DBT_AGENCY_PULSE_WAREHOUSE"

# Flags of every invocation: nothing leaves the machine, nothing is printed but errors.
_QUIET = ["--no-version-check", "--no-send-anonymous-usage-stats", "--quiet",
          "--log-level-file", "none", "--no-use-colors"]

_LOCK = threading.Lock()
_MANIFESTS: dict[tuple[str, str, str], object] = {}


class DbtProjectError(RuntimeError):
    """The dbt project could not be parsed, or a model failed (the message names it)."""


@dataclass(frozen=True)
class ModelRun:
    """One model that ran: ``schema.name``, its kind (table or view) and its SQL file."""

    schema: str
    name: str
    kind: str
    path: str
    seconds: float = 0.0  # dbt's execution time of the model

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


def project_fingerprint(project_dir: Path | None = None) -> str:
    """A hash of every file of the project a parse reads (SQL, YAML, macros)."""
    project_dir = project_dir or PROJECT_DIR
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if (not path.is_file() or relative.parts[0] in ("target", "logs", "dbt_packages")
                or path.suffix not in (".sql", ".yml", ".yaml", ".md")):
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _flags(project_dir: Path, target_path: Path) -> list[str]:
    return ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), *_QUIET]


@contextlib.contextmanager
def _warehouse_path(path: str) -> Iterator[None]:
    """The profile's path for one invocation (dbt reads it from the environment)."""
    before = os.environ.get(WAREHOUSE_PATH_VARIABLE)
    os.environ[WAREHOUSE_PATH_VARIABLE] = path
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WAREHOUSE_PATH_VARIABLE, None)
        else:
            os.environ[WAREHOUSE_PATH_VARIABLE] = before


_TARGET: dict[int, Path] = {}


def _target_path(project_dir: Path) -> Path:
    """dbt's scratch folder (compiled SQL): one per process, removed when it exits, so
    processes (tests, Airflow workers) never share one and nothing lands in the checkout."""
    if os.getpid() not in _TARGET:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="agency-pulse-dbt-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TARGET[os.getpid()] = folder
    return _TARGET[os.getpid()]


def cache_dir() -> Path:
    """Where parsed projects are kept between processes (``$XDG_CACHE_HOME``, else
    ``~/.cache``, then ``agency-pulse/dbt``): one file per project content, dbt version and
    database."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agency-pulse" / "dbt"


def _cache_file(project_dir: Path, database: str, fingerprint: str, kind: str) -> Path:
    from dbt.version import __version__ as dbt_version

    key = hashlib.sha256(f"{project_dir}|{database}|{fingerprint}|{dbt_version}".encode())
    return cache_dir() / f"{kind}-{key.hexdigest()[:24]}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Best effort: another process may write the same file (same content) at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        pass  # no cache: the next process parses again


def manifest(database: str = "warehouse", project_dir: Path | None = None):
    """The parsed project (a dbt ``Manifest``) for a warehouse whose database (DuckDB
    catalog) is ``database``. Parsed once per project content: kept in this process and in
    ``cache_dir()`` for the next ones (a parse costs seconds, loading the cache a fraction)."""
    project_dir = project_dir or PROJECT_DIR
    fingerprint = project_fingerprint(project_dir)
    key = (str(project_dir), database, fingerprint)
    with _LOCK:
        if key not in _MANIFESTS:
            _MANIFESTS[key] = _load_or_parse(project_dir, database, fingerprint)
        return _MANIFESTS[key]


def _load_or_parse(project_dir: Path, database: str, fingerprint: str):
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumaro_encoder, extended_mashumuro_decoder

    cached = _cache_file(project_dir, database, fingerprint, "manifest")
    with contextlib.suppress(Exception):  # a damaged or foreign cache file: parse again
        return Manifest.from_msgpack(cached.read_bytes(), decoder=extended_mashumuro_decoder)
    parsed = _parse(project_dir, database)
    _write_atomically(cached, parsed.to_msgpack(extended_mashumaro_encoder))
    return parsed


def _parse(project_dir: Path, database: str):
    from dbt.cli.main import dbtRunner

    with _warehouse_path(f"{database}.duckdb"):
        result = dbtRunner().invoke(
            ["parse", *_flags(project_dir, _target_path(project_dir)), "--no-write-json",
             "--no-partial-parse"])
    if not result.success:
        raise DbtProjectError(f"the dbt project {project_dir.name} cannot be parsed: "
                              f"{_one_line(result.exception)}")
    return result.result


def run(con, project_dir: Path | None = None, select: list[str] | None = None, *,
        full_refresh: bool = True) -> list[ModelRun]:
    """Run the project's models (or ``select``) on ``con``, in dependency order; return them
    as run. ``full_refresh`` (dbt's ``--full-refresh``) recreates the incremental models from
    all their input; without it they update only what ``quality.build_changes`` names. ``DbtProjectError`` names the first model that failed and its database error."""
    from dbt.cli.main import dbtRunner

    project_dir = project_dir or PROJECT_DIR
    database = con.execute("select current_database()").fetchall()[0][0]
    parsed = manifest(database, project_dir)
    # --fail-fast: after a failed model the caller's transaction is aborted anyway
    args = ["run", *_flags(project_dir, _target_path(project_dir)), "--no-write-json",
            "--no-partial-parse", "--threads", "1", "--fail-fast"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    with _LOCK, _warehouse_path(f"{database}.duckdb"), _shared_connection(con):
        result = dbtRunner(manifest=parsed).invoke(args)
    ran = list(getattr(result.result, "results", None) or [])
    for node_result in ran:
        if str(node_result.status) == "error":
            node = node_result.node
            raise DbtProjectError(
                f"model {node.schema}.{node.name} ({Path(node.original_file_path).name}) "
                f"failed: {_one_line(node_result.message)}")
    if not result.success:
        raise DbtProjectError(f"dbt run failed: {_one_line(result.exception)}")
    return [ModelRun(schema=r.node.schema, name=r.node.name,
                     kind=r.node.config.materialized, path=r.node.original_file_path,
                     seconds=float(getattr(r, "execution_time", 0.0) or 0.0))
            for r in ran]


def _one_line(text) -> str:
    return " ".join(str(text).split())


# dbt's own transaction statements: on the caller's connection, the caller's transaction rules.
_TRANSACTION_STATEMENTS = {"begin", "begin transaction", "commit", "commit transaction",
                           "rollback", "rollback transaction"}


class _CallerCursor:
    """The caller's connection as dbt-duckdb's cursor: closing it leaves it open, and dbt's
    BEGIN/COMMIT/ROLLBACK are skipped (the caller commits or rolls back the whole build)."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, bindings=None):
        if sql.strip().rstrip(";").strip().lower() in _TRANSACTION_STATEMENTS:
            return self._con
        if bindings is None:
            return self._con.execute(sql)
        return self._con.execute(sql, bindings)

    def close(self):
        pass

    def rollback(self):
        pass

    def commit(self):
        pass


@contextlib.contextmanager
def _shared_connection(con) -> Iterator[None]:
    """Make dbt-duckdb use ``con`` for the invocations inside the block."""
    from dbt.adapters.duckdb import connections
    from dbt.adapters.duckdb.environments.local import DuckDBConnectionWrapper, LocalEnvironment

    class CallerEnvironment(LocalEnvironment):
        def handle(self):
            with self.lock:
                self.handle_count += 1
            # no initialize_cursor: the caller configured its connection (UTC), and after a
            # failed model its transaction refuses every statement until it rolls back
            return DuckDBConnectionWrapper(_CallerCursor(con), self)

        def close(self):
            self.conn = None  # the caller's connection stays open

    create = connections.environments.create
    connections.environments.create = CallerEnvironment
    connections.DuckDBConnectionManager._ENV = None
    try:
        yield
    finally:
        connections.environments.create = create
        connections.DuckDBConnectionManager._ENV = None


@dataclass(frozen=True)
class CompiledModel:
    """A model as dbt compiled it: what ``run_compiled`` creates, and its documentation."""

    schema: str
    name: str
    materialized: str  # table | view
    path: str
    compiled_sql: str
    description: str
    columns: dict[str, str]
    persist_docs: bool

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


_COMPILED: dict[tuple[str, str, str], list[CompiledModel]] = {}


def compiled_models(database: str = "warehouse",
                    project_dir: Path | None = None) -> list[CompiledModel]:
    """Every model of the project compiled by dbt for ``database``, in dependency order
    (dbt's graph; ties by name). Compiled once per project content (kept like ``manifest``)."""
    import json

    project_dir = project_dir or PROJECT_DIR
    fingerprint = project_fingerprint(project_dir)
    key = (str(project_dir), database, fingerprint)
    if key in _COMPILED:
        return _COMPILED[key]
    cached = _cache_file(project_dir, database, fingerprint, "compiled")
    try:
        models = [CompiledModel(**m) for m in json.loads(cached.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        models = _compile(project_dir, database)
        _write_atomically(cached, json.dumps([m.__dict__ for m in models]).encode())
    _COMPILED[key] = models
    return models


def _compile(project_dir: Path, database: str) -> list[CompiledModel]:
    import duckdb
    from dbt.cli.main import dbtRunner

    parsed = manifest(database, project_dir)
    scratch = duckdb.connect()  # compiling reads no table: dbt only needs a connection
    try:
        with _LOCK, _warehouse_path(f"{database}.duckdb"), _shared_connection(scratch):
            result = dbtRunner(manifest=parsed).invoke(
                ["compile", *_flags(project_dir, _target_path(project_dir)),
                 "--no-write-json", "--no-partial-parse", "--no-introspect",
                 "--no-populate-cache", "--threads", "1", "--select", "resource_type:model",
                 # every model as a whole table, asking the database nothing
                 "--full-refresh"])
    finally:
        scratch.close()
    if not result.success:
        raise DbtProjectError(f"the dbt project {project_dir.name} cannot be compiled: "
                              f"{_one_line(result.exception)}")
    compiled = {r.node.unique_id: r.node for r in result.result.results
                if r.node.resource_type == "model"}
    models = []
    for unique_id in _graph_order(parsed, set(compiled)):
        node = compiled[unique_id]
        docs = node.config.persist_docs or {}
        models.append(CompiledModel(
            schema=node.schema, name=node.name, materialized=node.config.materialized,
            path=node.original_file_path, compiled_sql=node.compiled_code,
            description=node.description,
            columns={name: column.description for name, column in node.columns.items()},
            persist_docs=bool(docs.get("relation") or docs.get("columns"))))
    return models


def _graph_order(parsed, unique_ids: set[str]) -> list[str]:
    """The models in dependency order: each after the models it refers to, ties by name."""
    needs = {uid: {d for d in parsed.nodes[uid].depends_on.nodes if d in unique_ids}
             for uid in unique_ids}
    ordered: list[str] = []
    while len(ordered) < len(unique_ids):
        ready = sorted((uid for uid in unique_ids
                        if uid not in ordered and needs[uid] <= set(ordered)),
                       key=lambda uid: parsed.nodes[uid].name)
        if not ready:
            raise DbtProjectError("the models refer to each other in a cycle")
        ordered.extend(ready[:1])
    return ordered


def run_compiled(con, project_dir: Path | None = None) -> list[CompiledModel]:
    """Create every model on ``con`` from dbt's compiled SQL, in dependency order, and
    comment the documented ones (as ``persist_docs`` does): the same tables as ``run``
    without dbt's per-model bookkeeping (a tenth of the time), for the SQL tests and
    demo warehouses that build hundreds of times. ``DbtProjectError`` names a failing model."""
    import duckdb

    from agency_pulse.column_docs import sql_string

    database = con.execute("select current_database()").fetchall()[0][0]
    models = compiled_models(database, project_dir)
    for schema in sorted({m.schema for m in models}):
        con.execute(f'create schema if not exists "{schema}"')
    for model in models:
        relation = f'"{model.schema}"."{model.name}"'
        try:
            # compiled without a previous table: an incremental model is a whole table
            materialized = "table" if model.materialized == "incremental" else model.materialized
            con.execute(f"create or replace {materialized} {relation} as "
                        f"{model.compiled_sql}")
        except duckdb.Error as exc:
            raise DbtProjectError(f"model {model.qualified_name} ({Path(model.path).name}) "
                                  f"failed: {_one_line(exc)}") from exc
        if not model.persist_docs:
            continue
        if model.description:
            con.execute(f"comment on {materialized} {relation} is "
                        f"{sql_string(model.description)}")
        existing = {row[0] for row in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name = $s and table_name = $t",
            {"s": model.schema, "t": model.name}).fetchall()}
        for column, description in model.columns.items():
            if column in existing and description:
                con.execute(f'comment on column {relation}."{column}" is '
                            f"{sql_string(description)}")
    return models


def test(con, project_dir: Path | None = None) -> list[str]:
    """Run the project's data tests (schema.yml's generic tests and ``tests/*.sql``) on
    ``con``; return one line per failing test (empty when every test passes)."""
    from dbt.cli.main import dbtRunner

    project_dir = project_dir or PROJECT_DIR
    database = con.execute("select current_database()").fetchall()[0][0]
    parsed = manifest(database, project_dir)
    with _LOCK, _warehouse_path(f"{database}.duckdb"), _shared_connection(con):
        result = dbtRunner(manifest=parsed).invoke(
            ["test", *_flags(project_dir, _target_path(project_dir)), "--no-write-json",
             "--no-partial-parse", "--threads", "1"])
    results = list(getattr(result.result, "results", None) or [])
    if not results and not result.success:
        raise DbtProjectError(f"dbt test failed: {_one_line(result.exception)}")
    return [f"{r.node.name}: {r.status} ({_one_line(r.message)})" for r in results
            if str(r.status) not in ("pass", "success")]


def write_manifest(target_dir: Path | None = None, project_dir: Path | None = None) -> Path:
    """Parse the project and write ``manifest.json`` into ``target_dir`` (default: the
    project's ``target/``), for the marts DAG's task group; return its path. Runs no model."""
    from dbt.cli.main import dbtRunner

    project_dir = project_dir or PROJECT_DIR
    target_dir = target_dir or project_dir / "target"
    with _warehouse_path(os.environ.get(WAREHOUSE_PATH_VARIABLE)
                         or str(config.paths().warehouse)):
        result = dbtRunner().invoke(["parse", *_flags(project_dir, target_dir)])
    if not result.success:
        raise DbtProjectError(f"the dbt project {project_dir.name} cannot be parsed: "
                              f"{_one_line(result.exception)}")
    return target_dir / "manifest.json"


def docs_generate(warehouse_path: Path, target_dir: Path,
                  project_dir: Path | None = None) -> Path:
    """``dbt docs generate`` for the warehouse at ``warehouse_path`` (read for the catalog:
    columns, types, comments) into ``target_dir``; return its ``index.html``, which opens
    from the folder with no network (``--static``: the manifest and catalog inside)."""
    from dbt.cli.main import dbtRunner

    project_dir = project_dir or PROJECT_DIR
    with _warehouse_path(str(warehouse_path)):
        result = dbtRunner().invoke(["docs", "generate", "--static",
                                     *_flags(project_dir, target_dir)])
    if not result.success:
        raise DbtProjectError(f"dbt docs generate failed: {_one_line(result.exception)}")
    return target_dir / "static_index.html"
