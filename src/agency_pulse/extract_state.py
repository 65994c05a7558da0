"""The extract state: a small per-account table, so a batch reads what each account has in
the same time on day 10 and on day 1,000.

An extractor needs, per account, what earlier accepted runs saw (``ExtractState``): the
last post's time, the platform id, the last day of follower history, and the posts of the
settling window (to refresh their metrics and notice deletions). Reading that from the
accepted lake means reading a platform's whole history every batch. Instead each platform
keeps one state file in the lake's extract-state folder (``lake_layout.extract_state_path``),
derived from the accepted zone only, so it can always be rebuilt from it:

- one row per (dataset, account, partition day) for the last ``KEEP_DAYS`` days of
  partitions, and one *base* row per (dataset, account) folding in every older day (latest
  post time and id, platform id and the day it was seen, follower history through, last
  snapshot day);
- the settling window's posts as (account, post, partition day, published, fetched on,
  digest of the version landed: ``post_digests``), the days each post was read without
  landing a row (``post_reads``: post, partition day, read on) and the post deletions
  detected in it;
- in the file's metadata: the newest partition day folded in, the last day of the base,
  and each folded (dataset, day)'s files (name, size, mtime).

``refresh`` brings it up to date: a (dataset, day) whose files changed (a new day, a new
batch, a rerun) is read again; only that day. A day inside the kept window replaces its
rows (a rerun may correct a day); a day already in the base can only add to it (a day's
record only grows), and a newer platform id is never replaced by an older day's.
Validation refreshes it after publishing; the extract refreshes it before reading, so a
missed refresh costs one day's read, never a wrong state. A day whose files were merged
into a month file (``lake_compact``) keeps its rows. Missing or damaged (checksum
mismatch, unreadable), it is rebuilt from the lake: ``rebuild``, ``agency-pulse lake state
--rebuild``.

``read_state`` answers for a run day after the base (every daily run, and reruns within
``KEEP_DAYS``); for an older day (a backfill) it returns None and the caller reads the
lake itself (``extract.scan_state``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agency_pulse import lake, lake_fs
from agency_pulse.extractors.base import BACKFILL_DAYS, SETTLE_DAYS, ExtractState

log = logging.getLogger(__name__)

# Days of partitions kept day by day (a rerun inside them reads an exact state); older days
# are folded into one base row per account.
KEEP_DAYS = SETTLE_DAYS + 5
DATASETS = ("posts", "account_snapshots", "follower_history", "post_deletions", "post_reads")
_VERSION = 2
# The fields of a post the warehouse uses: a post read again lands a new row (a version)
# only when one of them differs from the version already accepted.
DIGEST_COLUMNS = ("account_id", "agency_id", "published_at", "post_type", "is_video", "is_live",
                  "permalink", "reactions", "comments", "shares", "views", "views_rounding")
_META_KEY = b"agency_pulse.extract_state"

ACCOUNTS_SCHEMA = pa.schema([
    ("dataset", pa.string()), ("account_id", pa.string()),
    ("day", pa.date32()),  # the partition day; NULL: the base (every day up to base_through)
    ("last_post_at", lake.UTC_TS), ("last_post_id", pa.string()),
    ("platform_id", pa.string()), ("platform_id_on", pa.date32()),
    ("history_through", pa.date32()), ("last_snapshot_day", pa.date32()),
])
POSTS_SCHEMA = pa.schema([
    ("account_id", pa.string()), ("post_id", pa.string()), ("day", pa.date32()),
    ("published_at", lake.UTC_TS), ("fetched_on", pa.date32()), ("digest", pa.string()),
])
DELETIONS_SCHEMA = pa.schema([
    ("post_id", pa.string()), ("day", pa.date32()), ("detected_on", pa.date32()),
])
SEEN_SCHEMA = pa.schema([
    ("post_id", pa.string()), ("day", pa.date32()), ("seen_on", pa.date32()),
])
_PARTS = {"account": ACCOUNTS_SCHEMA, "post": POSTS_SCHEMA, "deletion": DELETIONS_SCHEMA,
          "seen": SEEN_SCHEMA}
# StateStore attribute of each stored part
_PART_ATTRS = {"account": "accounts", "post": "posts", "deletion": "deletions", "seen": "seen"}
_STORED_SCHEMA = pa.schema([("kind", pa.string())] + list({
    f.name: f for schema in _PARTS.values() for f in schema}.values()))


def post_digests(table: pa.Table) -> list[str]:
    """One digest per row of a ``posts`` table (lake schema) over ``DIGEST_COLUMNS``: equal
    for a row as the extractor returns it and as it reads back from the lake."""
    columns = [table[name].to_pylist() for name in DIGEST_COLUMNS]
    return [hashlib.blake2b(json.dumps(values, default=str, separators=(",", ":")).encode(),
                            digest_size=12).hexdigest()
            for values in zip(*columns, strict=True)] if columns else []


class StateDamaged(RuntimeError):
    """The state file is unreadable or does not match its checksum (rebuild it)."""


@dataclass
class StateStore:
    """One platform's extract state in memory (see the module docstring)."""

    platform: str
    accounts: pa.Table = field(default_factory=ACCOUNTS_SCHEMA.empty_table)
    posts: pa.Table = field(default_factory=POSTS_SCHEMA.empty_table)
    deletions: pa.Table = field(default_factory=DELETIONS_SCHEMA.empty_table)
    seen: pa.Table = field(default_factory=SEEN_SCHEMA.empty_table)
    through: date | None = None        # the newest partition day folded in
    base_through: date | None = None   # days up to this one are in the base rows
    # dataset -> ISO day -> [[file name, size, mtime_ns], ...] as folded
    signatures: dict[str, dict[str, list]] = field(default_factory=dict)

    def covers(self, run_date: date, settle_days: int = SETTLE_DAYS) -> bool:
        """Whether ``read`` answers exactly for ``run_date``: it is after the base, and
        the settling window it needs was not pruned."""
        if self.base_through is None:
            return True
        return run_date > self.base_through and \
            run_date - timedelta(days=settle_days) > self._prune_before()

    def _prune_before(self) -> date:
        return (self.base_through or date.min + timedelta(days=SETTLE_DAYS + 2)) \
            - timedelta(days=SETTLE_DAYS + 1)

    def read(self, run_date: date, *, settle_days: int = SETTLE_DAYS,
             backfill_days: int | None = BACKFILL_DAYS) -> ExtractState:
        """What the accepted partitions dated before ``run_date`` tell the extractor
        (``covers(run_date)`` must hold)."""
        state = ExtractState(settle_days=settle_days, backfill_days=backfill_days)
        before = pa.scalar(run_date, pa.date32())
        accounts = self.accounts.filter(_before(self.accounts, before))
        posts_rows = _of(accounts, "posts")
        latest = posts_rows.group_by("account_id").aggregate([("last_post_at", "max")])
        for account_id, at in zip(latest["account_id"].to_pylist(),
                                  latest["last_post_at_max"].to_pylist(), strict=True):
            if account_id and at is not None:
                state.last_post_at[account_id] = at
        state.platform_ids = _platform_ids(_of(accounts, "account_snapshots"))
        history = _of(accounts, "follower_history").group_by("account_id").aggregate(
            [("history_through", "max")])
        state.history_through = {a: d for a, d in zip(
            history["account_id"].to_pylist(), history["history_through_max"].to_pylist(),
            strict=True) if d is not None}

        settle_start = state.settle_start(run_date)
        posts = self.posts.filter(_before(self.posts, before))
        posts = posts.filter(pc.greater_equal(posts["published_at"], settle_start))
        recent = latest_versions(posts)
        deletions = self.deletions.filter(_before(self.deletions, before)).group_by(
            "post_id").aggregate([("detected_on", "max")])
        deleted = dict(zip(deletions["post_id"].to_pylist(),
                           deletions["detected_on_max"].to_pylist(), strict=True))
        seen = self.seen.filter(_before(self.seen, before)).group_by("post_id").aggregate(
            [("seen_on", "max")])
        add_settling_posts(state, recent, deleted, dict(zip(
            seen["post_id"].to_pylist(), seen["seen_on_max"].to_pylist(), strict=True)))
        # Read on a later day (a rerun of an older day): kept days only, the base is older.
        later = pc.fill_null(pc.greater(self.seen["day"], before), False)
        later_posts = pc.fill_null(pc.greater(self.posts["day"], before), False)
        state.posts_read_after = set(self.seen.filter(later)["post_id"].to_pylist()) | set(
            self.posts.filter(later_posts)["post_id"].to_pylist())
        return state

    def account_rows(self) -> list[dict]:
        """One row per account as of every day folded in (for people and tests): its last
        post time and id, platform id, follower history through and last snapshot day."""
        merged: dict[str, dict] = {}
        for row in _collapse_accounts(self.accounts).to_pylist():
            entry = merged.setdefault(row["account_id"], {"account_id": row["account_id"]})
            for column in ("last_post_at", "last_post_id", "platform_id", "platform_id_on",
                           "history_through", "last_snapshot_day"):
                if row[column] is not None:
                    entry[column] = row[column]
        return [merged[key] for key in sorted(merged)]


# --------------------------------------------------------------------------- public entry points

def read_state(platform: str, run_date: date, *, root: Path | None = None,
               settle_days: int = SETTLE_DAYS,
               backfill_days: int | None = BACKFILL_DAYS) -> ExtractState | None:
    """The extract state before ``run_date`` from the state table (refreshed first), or
    None when the table cannot answer for that day (older than its kept window)."""
    store = refresh(platform, root=root)
    if not store.covers(run_date, settle_days):
        return None
    return store.read(run_date, settle_days=settle_days, backfill_days=backfill_days)


def refresh(platform: str, *, root: Path | None = None) -> StateStore:
    """Bring a platform's state up to date with the accepted zone and save it when it
    changed; a missing or damaged state is rebuilt. Returns it."""
    root = root or lake.lake_root()
    try:
        store = load(platform, root)
    except StateDamaged as exc:
        log.warning("extract state: %s; rebuilding it from the lake", exc)
        return rebuild(platform, root=root)
    if store is None:
        return rebuild(platform, root=root)
    if _fold_changes(store, root):
        save(store, root)
    return store


def rebuild(platform: str, *, root: Path | None = None) -> StateStore:
    """Build a platform's state afresh from the accepted zone (month files and daily
    partitions) and save it."""
    root = root or lake.lake_root()
    store = StateStore(platform)
    source = _source(root)
    by_month: dict[str, list[str]] = {}
    for dataset in DATASETS:
        for month_file in _accepted_files(source, dataset, platform, root)[1]:
            by_month.setdefault(lake.parse_month_file(source.fs_path(month_file)).month,
                                []).append(month_file)
    for _month, files in sorted(by_month.items()):
        by_day: dict[tuple[date, str], list[pa.Table]] = {}
        for month_file in files:
            dataset = lake.parse_month_file(source.fs_path(month_file)).dataset
            check = source.verify_checksum(month_file)
            if check.status == "mismatch":
                log.warning("extract state: %s", lake.mismatch_line(check))
                continue
            for day, table in lake.read_month_days(source.fs_path(month_file),
                                                   filesystem=source.filesystem):
                by_day.setdefault((day, dataset), []).append(table)
        for (day, dataset), tables in sorted(by_day.items()):
            _fold(store, dataset, day, pa.concat_tables(tables))
        _advance(store)
    _fold_changes(store, root)  # the daily partitions, after (and over) the month files
    save(store, root)
    return store


def load(platform: str, root: Path | None = None) -> StateStore | None:
    """The saved state, None when there is none; StateDamaged when it cannot be trusted."""
    path = lake.extract_state_path(platform, root)
    if not path.exists():
        return None
    # The state is this host's cache, in its local folder even when the lake is on S3.
    recorded = lake_fs.LOCAL.recorded_checksum(path)
    if recorded is not None and recorded != lake_fs.LOCAL.sha256(path):
        raise StateDamaged(f"{path} does not match its checksum")
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
        if meta.get("version") != _VERSION or meta.get("platform") != platform:
            raise ValueError("another version or platform")
        parts = {kind: table.filter(pc.equal(table["kind"], kind)).select(schema.names)
                 .cast(schema) for kind, schema in _PARTS.items()}
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise StateDamaged(f"{path} is unreadable ({type(exc).__name__})") from exc
    return StateStore(platform, accounts=parts["account"], posts=parts["post"],
                      deletions=parts["deletion"], seen=parts["seen"],
                      through=_day(meta.get("through")),
                      base_through=_day(meta.get("base_through")),
                      signatures=meta.get("signatures", {}))


def save(store: StateStore, root: Path | None = None) -> Path:
    """Write the state atomically (temporary file renamed into place) with its checksum."""
    path = lake.extract_state_path(store.platform, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"version": _VERSION, "platform": store.platform,
            "through": store.through.isoformat() if store.through else None,
            "base_through": store.base_through.isoformat() if store.base_through else None,
            "signatures": store.signatures}
    parts = []
    for kind, attr in _PART_ATTRS.items():
        table = getattr(store, attr)
        columns = {"kind": pa.array([kind] * table.num_rows, pa.string())}
        for f in _STORED_SCHEMA:
            if f.name != "kind":
                columns[f.name] = (table[f.name] if f.name in table.column_names
                                   else pa.nulls(table.num_rows, f.type))
        parts.append(pa.table(columns, schema=_STORED_SCHEMA))
    table = pa.concat_tables(parts).replace_schema_metadata({_META_KEY: json.dumps(meta)})
    # This host's cache: in its local folder even when the lake is on S3.
    lake_fs.LOCAL.forget_checksum(path)
    lake_fs.LOCAL.write_table(path, table)
    lake_fs.LOCAL.record_checksum(path)
    return path


def check(platform: str, root: Path | None = None) -> str | None:
    """One line saying what is wrong with a platform's saved state, or None when it loads
    (a missing state is not a problem: the next extract builds it)."""
    try:
        load(platform, root)
    except StateDamaged as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- folding

def _fold_changes(store: StateStore, root: Path) -> bool:
    """Fold in every (dataset, day) whose accepted files changed, oldest day first;
    returns whether anything changed."""
    changed = False
    pending = []
    source = _source(root)
    for dataset in DATASETS:
        listed: dict[str, list[tuple[str, int, int | None]]] = {}
        for location, size, mtime in _accepted_files(source, dataset, store.platform, root)[0]:
            day = lake.parse_partition(source.fs_path(location)).day.isoformat()
            listed.setdefault(day, []).append((location, size, mtime))
        known = store.signatures.setdefault(dataset, {})
        for day_text in [d for d in known if d not in listed]:
            # merged into a month file (or removed): what it held stays folded in
            del known[day_text]
            changed = True
        for day_text, facts in listed.items():
            files = [location for location, *_ in facts]
            signature = [[posixpath.basename(location), size, mtime]
                         for location, size, mtime in facts]
            if known.get(day_text) != signature:
                pending.append((day_text, dataset, files, signature))
    month = None
    for day_text, dataset, files, signature in sorted(pending, key=lambda p: p[:2]):
        if month is not None and day_text[:7] != month:
            _advance(store)  # keep the day rows to the window while catching up on months
        month = day_text[:7]
        try:
            table = _read_intact(dataset, files, source)
        except FileNotFoundError:
            continue
        if table is None:
            continue  # damaged: not folded (nor recorded) until a rerun repairs the day
        _fold(store, dataset, date.fromisoformat(day_text), table)
        store.signatures[dataset][day_text] = signature
        changed = True
    if changed:
        _advance(store)
    return changed


def _source(root: Path | None) -> lake_fs.LakeFS:
    """Where the accepted zone is read: the lake on object storage when it is configured
    and ``root`` is the configured lake folder (the state itself stays in that folder, as
    this host's cache), else the folder ``root`` itself."""
    if root is None or Path(root) == lake.lake_root():
        shared = lake_fs.open_lake()
        if shared.remote:
            return shared
    return lake_fs.LOCAL


def _accepted_files(source: lake_fs.LakeFS, dataset: str, platform: str, root: Path | None
                    ) -> tuple[list[tuple[str, int, int | None]], list[str]]:
    """A platform's accepted files of a dataset on ``source``: the daily partitions as
    (location, size, mtime_ns) and the compacted month files, each sorted by location."""
    if not source.remote:
        dailies = []
        for path in lake.list_partitions(lake.ACCEPTED, dataset, platform, root=root):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # replaced meanwhile: the next refresh reads the new files
            dailies.append((str(path), stat.st_size, stat.st_mtime_ns))
        return dailies, [str(f) for f in lake.list_month_files(dataset, platform, root=root)]
    dailies, months = [], []
    for location, size, mtime in source.dataset_files(dataset):
        path = source.fs_path(location)
        try:
            found = (lake.parse_month_file(path) if lake.is_month_file(path)
                     else lake.parse_partition(path))
        except lake.NotAPartitionFile:
            continue  # not the layout's: no local listing would return it either
        if found.platform == platform:
            if lake.is_month_file(path):
                months.append(location)
            else:
                dailies.append((location, size, mtime))
    return dailies, months


def _read_intact(dataset: str, files: list[str], source: lake_fs.LakeFS) -> pa.Table | None:
    """The rows of one (dataset, day), or None when a file does not match its recorded
    checksum or is not readable Parquet (one warning naming it: the state never takes in a
    damaged file; ``agency-pulse lake check`` says what to do)."""
    tables = []
    for path in files:
        check = source.verify_checksum(path)
        if check.status == "mismatch":
            log.warning("extract state: %s", lake.mismatch_line(check))
            return None
        try:
            tables.append(source.read_table(path, schema=lake.SCHEMAS[dataset]))
        except FileNotFoundError:
            raise
        except (pa.ArrowException, OSError) as exc:
            log.warning("extract state: %s is not readable Parquet (%s): %s", path,
                        (str(exc).splitlines() or [type(exc).__name__])[0][:200],
                        lake.what_to_do(path))
            return None
    return pa.concat_tables(tables)


def _fold(store: StateStore, dataset: str, day: date, table: pa.Table) -> None:
    accounts, posts, deletions, seen = _contribution(dataset, day, table)
    store.through = max(filter(None, (store.through, day)))
    if store.base_through is None or day > store.base_through:
        same_day = pc.and_(pc.equal(store.accounts["dataset"], dataset),
                           pc.equal(store.accounts["day"], pa.scalar(day, pa.date32())))
        store.accounts = pa.concat_tables([
            store.accounts.filter(pc.invert(pc.fill_null(same_day, False))), accounts])
        if dataset == "posts":
            store.posts = pa.concat_tables([_without_day(store.posts, day), posts])
        if dataset == "post_deletions":
            store.deletions = pa.concat_tables([_without_day(store.deletions, day), deletions])
        if dataset == "post_reads":
            store.seen = pa.concat_tables([_without_day(store.seen, day), seen])
        return
    # A day already in the base (a rerun or backfill of an old day): it can only add.
    store.accounts = _collapse_accounts(pa.concat_tables([
        store.accounts, _as_base(accounts)]), upto=store.base_through)
    store.posts = _collapse_posts(pa.concat_tables([store.posts, _as_base(posts)]),
                                  upto=store.base_through)
    store.deletions = _collapse_latest(pa.concat_tables(
        [store.deletions, _as_base(deletions)]), store.base_through, "detected_on",
        DELETIONS_SCHEMA)
    store.seen = _collapse_latest(pa.concat_tables([store.seen, _as_base(seen)]),
                                  store.base_through, "seen_on", SEEN_SCHEMA)


def _advance(store: StateStore) -> None:
    """Fold the days that left the kept window into the base; drop posts too old to matter."""
    if store.through is None:
        return
    base_through = store.through - timedelta(days=KEEP_DAYS)
    if store.base_through is not None and base_through <= store.base_through:
        return
    store.base_through = base_through
    store.accounts = _collapse_accounts(store.accounts, upto=base_through)
    prune = pa.scalar(datetime.combine(store._prune_before(), time(), UTC), lake.UTC_TS)
    posts = _collapse_posts(store.posts, upto=base_through)
    store.posts = posts.filter(pc.greater_equal(posts["published_at"], prune))
    deletions = _collapse_latest(store.deletions, base_through, "detected_on",
                                 DELETIONS_SCHEMA)
    store.deletions = deletions.filter(pc.greater_equal(
        deletions["detected_on"], pa.scalar(store._prune_before(), pa.date32())))
    # a post not read since then is no settling-window post of any day after the base
    seen = _collapse_latest(store.seen, base_through, "seen_on", SEEN_SCHEMA)
    store.seen = seen.filter(pc.greater_equal(
        seen["seen_on"], pa.scalar(store._prune_before(), pa.date32())))


def _contribution(dataset: str, day: date, table: pa.Table
                  ) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """What one (dataset, day) adds: account rows, post rows, deletion rows, read rows."""
    accounts, posts, deletions, read = (
        ACCOUNTS_SCHEMA.empty_table(), POSTS_SCHEMA.empty_table(),
        DELETIONS_SCHEMA.empty_table(), SEEN_SCHEMA.empty_table())
    rows: list[dict] = []
    if dataset == "posts" and table.num_rows:
        ordered = table.sort_by([("published_at", "ascending")])
        latest = ordered.group_by("account_id", use_threads=False).aggregate(
            [("published_at", "max"), ("post_id", "last")])
        rows = [{"account_id": a, "last_post_at": at, "last_post_id": post_id}
                for a, at, post_id in zip(latest["account_id"].to_pylist(),
                                          latest["published_at_max"].to_pylist(),
                                          latest["post_id_last"].to_pylist(), strict=True)]
        versions = table.select(["account_id", "post_id", "published_at", "fetched_on"])
        versions = versions.append_column("digest", pa.array(post_digests(table), pa.string()))
        grouped = latest_versions(versions)
        posts = pa.table({
            "account_id": grouped["account_id"], "post_id": grouped["post_id"],
            "day": pa.array([day] * grouped.num_rows, pa.date32()),
            "published_at": grouped["published_at_max"], "fetched_on": grouped["fetched_on_max"],
            "digest": grouped["digest_last"],
        }, schema=POSTS_SCHEMA)
    elif dataset == "account_snapshots" and table.num_rows:
        seen = table.group_by("account_id").aggregate([("snapshot_date", "max")])
        by_account = {a: {"account_id": a, "last_snapshot_day": d} for a, d in zip(
            seen["account_id"].to_pylist(), seen["snapshot_date_max"].to_pylist(), strict=True)}
        with_id = table.filter(pc.is_valid(table["platform_id"])).sort_by(
            [("snapshot_date", "ascending"), ("fetched_at", "ascending")])
        ids = with_id.group_by("account_id", use_threads=False).aggregate(
            [("platform_id", "last")])
        for a, platform_id in zip(ids["account_id"].to_pylist(),
                                  ids["platform_id_last"].to_pylist(), strict=True):
            by_account[a].update(platform_id=platform_id, platform_id_on=day)
        rows = list(by_account.values())
    elif dataset == "follower_history" and table.num_rows:
        through = table.group_by("account_id").aggregate([("day", "max")])
        rows = [{"account_id": a, "history_through": d} for a, d in zip(
            through["account_id"].to_pylist(), through["day_max"].to_pylist(), strict=True)]
    elif dataset == "post_deletions" and table.num_rows:
        latest = table.group_by("post_id").aggregate([("detected_on", "max")])
        deletions = pa.table({
            "post_id": latest["post_id"],
            "day": pa.array([day] * latest.num_rows, pa.date32()),
            "detected_on": latest["detected_on_max"]}, schema=DELETIONS_SCHEMA)
    elif dataset == "post_reads" and table.num_rows:
        reads = read_post_ids(table).group_by("post_id").aggregate([("read_on", "max")])
        read = pa.table({
            "post_id": reads["post_id"], "day": pa.array([day] * reads.num_rows, pa.date32()),
            "seen_on": reads["read_on_max"]}, schema=SEEN_SCHEMA)
    if rows:
        accounts = pa.Table.from_pylist(
            [{"dataset": dataset, "day": day, **row} for row in rows if row["account_id"]],
            schema=ACCOUNTS_SCHEMA)
    return accounts, posts, deletions, read


def _collapse_accounts(table: pa.Table, upto: date | None = None) -> pa.Table:
    """Rows up to ``upto`` (and base rows) become one base row per (dataset, account);
    without ``upto``, every row does."""
    old, kept = _split(table, upto)
    if not old.num_rows:
        return table
    ordered_posts = _of(old, "posts").sort_by([("last_post_at", "ascending")])
    posts = ordered_posts.group_by(["dataset", "account_id"], use_threads=False).aggregate(
        [("last_post_at", "max"), ("last_post_id", "last")])
    snapshots = _of(old, "account_snapshots").sort_by([("platform_id_on", "ascending")])
    snapshots = snapshots.group_by(["dataset", "account_id"], use_threads=False).aggregate(
        [("platform_id", "last"), ("platform_id_on", "max"), ("last_snapshot_day", "max")])
    history = _of(old, "follower_history").group_by(["dataset", "account_id"]).aggregate(
        [("history_through", "max")])
    parts = [kept]
    for grouped in (posts, snapshots, history):
        columns = {}
        for f in ACCOUNTS_SCHEMA:
            name = f.name if f.name in grouped.column_names else next(
                (c for c in grouped.column_names if c.rsplit("_", 1)[0] == f.name), None)
            columns[f.name] = (grouped[name] if name else pa.nulls(grouped.num_rows, f.type))
        columns["day"] = pa.nulls(grouped.num_rows, pa.date32())
        parts.append(pa.table(columns, schema=ACCOUNTS_SCHEMA))
    return pa.concat_tables(parts)


def _collapse_posts(table: pa.Table, upto: date | None) -> pa.Table:
    old, kept = _split(table, upto)
    if not old.num_rows:
        return table
    grouped = latest_versions(old)
    return pa.concat_tables([kept, pa.table({
        "account_id": grouped["account_id"], "post_id": grouped["post_id"],
        "day": pa.nulls(grouped.num_rows, pa.date32()),
        "published_at": grouped["published_at_max"], "fetched_on": grouped["fetched_on_max"],
        "digest": grouped["digest_last"],
    }, schema=POSTS_SCHEMA)])


def _collapse_latest(table: pa.Table, upto: date | None, column: str,
                     schema: pa.Schema) -> pa.Table:
    """Rows of days up to ``upto`` folded into one per post: its latest ``column`` day."""
    old, kept = _split(table, upto)
    if not old.num_rows:
        return table
    grouped = old.group_by("post_id").aggregate([(column, "max")])
    return pa.concat_tables([kept, pa.table({
        "post_id": grouped["post_id"], "day": pa.nulls(grouped.num_rows, pa.date32()),
        column: grouped[f"{column}_max"]}, schema=schema)])


def latest_versions(posts: pa.Table) -> pa.Table:
    """Per (account, post): the latest publication time, the last day fetched and the
    digest of the version fetched last (``lake.KEYS``: the latest ``fetched_on`` wins, a tie
    going to the later row). ``posts``: account_id, post_id, published_at, fetched_on,
    digest."""
    ordered = posts.sort_by([("fetched_on", "ascending")])  # stable: later rows stay later
    return ordered.group_by(["account_id", "post_id"], use_threads=False).aggregate(
        [("published_at", "max"), ("fetched_on", "max"), ("digest", "last")])


def read_post_ids(reads: pa.Table) -> pa.Table:
    """A ``post_reads`` table as one (post_id, read_on) row per post id read."""
    ids = reads["post_ids"].combine_chunks() if reads.num_rows else pa.array(
        [], pa.list_(pa.string()))
    parents = pc.list_parent_indices(ids)
    return pa.table({"post_id": pc.list_flatten(ids),
                     "read_on": pc.take(reads["read_on"].combine_chunks(), parents)})


def _platform_ids(snapshots: pa.Table) -> dict[str, str]:
    ordered = snapshots.filter(pc.is_valid(snapshots["platform_id"])).sort_by(
        [("platform_id_on", "ascending")])
    ids = ordered.group_by("account_id", use_threads=False).aggregate([("platform_id", "last")])
    return dict(zip(ids["account_id"].to_pylist(), ids["platform_id_last"].to_pylist(),
                    strict=True))


def _split(table: pa.Table, upto: date | None) -> tuple[pa.Table, pa.Table]:
    """(rows to collapse: base rows and days up to ``upto``; the rest)."""
    if upto is None:
        return table, table.schema.empty_table()
    old = pc.fill_null(pc.less_equal(table["day"], pa.scalar(upto, pa.date32())), True)
    return table.filter(old), table.filter(pc.invert(old))


def _before(table: pa.Table, before: pa.Scalar) -> pa.ChunkedArray:
    return pc.fill_null(pc.less(table["day"], before), True)


def _of(table: pa.Table, dataset: str) -> pa.Table:
    return table.filter(pc.equal(table["dataset"], dataset))


def _without_day(table: pa.Table, day: date) -> pa.Table:
    return table.filter(pc.fill_null(pc.not_equal(table["day"], pa.scalar(day, pa.date32())),
                                     True))


def _as_base(table: pa.Table) -> pa.Table:
    return table.set_column(table.schema.get_field_index("day"), "day",
                            pa.nulls(table.num_rows, pa.date32()))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def add_settling_posts(state: ExtractState, recent, deleted: dict,
                       seen: dict[str, date]) -> None:
    """Fold the settling window's posts (``recent``: account_id, post_id, published_at_max,
    fetched_on_max, digest_last, as ``latest_versions`` gives) into ``state``, leaving out
    posts reported deleted and not read since (``deleted``: post_id -> detection day;
    ``seen``: post_id -> last day a ``post_reads`` row lists it). Shared by this table and
    the whole-lake read."""
    for account_id, post_id, published, fetched_on, digest in zip(
            recent["account_id"].to_pylist(), recent["post_id"].to_pylist(),
            recent["published_at_max"].to_pylist(), recent["fetched_on_max"].to_pylist(),
            recent["digest_last"].to_pylist(), strict=True):
        seen_on = max(filter(None, (fetched_on, seen.get(post_id))), default=None)
        deleted_on = deleted.get(post_id)
        if deleted_on is not None and (seen_on is None or deleted_on >= seen_on):
            continue  # already reported deleted, not seen since
        state.known_post_ids.setdefault(account_id, set()).add((post_id, published))
        if seen_on is not None:
            state.post_last_seen[post_id] = seen_on
        if digest is not None:
            state.post_digests[post_id] = digest
