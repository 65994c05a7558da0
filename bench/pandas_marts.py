"""The alternative to the warehouse: the four marts computed in pandas from the same Parquet.

What a careful analyst would write in a notebook, following the definitions in docs/REFERENCE.md (Warehouse) and the
decisions of include/dbt/README.md, for the sources the benchmark workload has: API
snapshots, posts (latest fetch wins) and the registry (owners without active dates). Manual
observations, follower history, deletions and the extract log are not read (the workload
has none); ``compare_marts`` checks the result equal to ``marts.*`` of the warehouse.

Run as a script (``python -m bench.pandas_marts LAKE REGISTRY``) so the benchmark can take
its peak memory from a child process.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from agency_pulse import lake
from agency_pulse.registry import Registry, load_registry

ACTIVITY_LEVELS = {"active": 5, "low": 4, "stale": 3, "dormant": 2, "unknown": 1}
ACCOUNT_COLUMNS = ["account_id", "agency_id", "platform", "handle", "followers_start",
                   "followers_end", "followers_change", "followers_growth_pct",
                   "followers_growth_ratio", "posts", "video_posts", "live_posts", "engagement",
                   "engagement_per_post", "engagement_rate_pct", "last_post_at",
                   "days_since_last_post", "activity_status"]
AGENCY_COLUMNS = ["agency_id", "agency_name", "agency_name_en", "successor_of", "platforms",
                  "platform_count", "accounts", "followers_end", "followers_change",
                  "followers_growth_pct", "posts", "engagement", "activity_status",
                  "rank_followers", "rank_growth"]
MART_KEYS = {"account_monthly": ["account_id", "month"], "account_annual": ["account_id", "year"],
             "agency_monthly": ["agency_id", "month"], "agency_annual": ["agency_id", "year"]}


def read_latest(dataset: str, lake_root: Path, columns: list[str]) -> pd.DataFrame:
    """A dataset of the accepted lake, one row per ``lake.KEYS`` key (the latest wins)."""
    files = lake.dataset_files(dataset, Path(lake_root))
    keys, latest = lake.KEYS[dataset]
    wanted = list(dict.fromkeys([*columns, *keys, latest]))
    if not files:
        return lake.SCHEMAS[dataset].empty_table().select(wanted).to_pandas()
    frames = []
    for order, file in enumerate(files):
        frame = pq.read_table(file, columns=wanted).to_pandas()
        frame["_file_order"] = order
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values([latest, "_file_order"], na_position="first", kind="stable")
    return frame.drop_duplicates(list(keys), keep="last").drop(columns="_file_order")


def _day_numbers(values) -> np.ndarray:
    return pd.to_datetime(values).to_numpy("datetime64[D]").astype(np.int64)


def _period_start(days: np.ndarray, grain: str) -> np.ndarray:
    unit = "M" if grain == "month" else "Y"
    return days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype("datetime64[D]").astype(np.int64)


def _period_end(starts: np.ndarray, grain: str) -> np.ndarray:
    unit = "M" if grain == "month" else "Y"
    following = starts.astype("datetime64[D]").astype(f"datetime64[{unit}]") + 1
    return following.astype("datetime64[D]").astype(np.int64) - 1


def _units_per_second(values: pd.Series) -> int:
    unit = np.datetime_data(values.dtype.base if hasattr(values.dtype, "base") else values.dtype)[0] \
        if not isinstance(values.dtype, pd.DatetimeTZDtype) else values.dtype.unit
    return {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]


def _count_in_range(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many sorted ``keys`` lie in [lo, hi] (element-wise)."""
    return np.searchsorted(keys, hi, side="right") - np.searchsorted(keys, lo, side="left")


def account_periods(lake_root: Path, registry: Registry) -> pd.DataFrame:
    """Every account-period row (both grains) with the contract's account measures."""
    snapshots = read_latest("account_snapshots", lake_root,
                            ["account_id", "snapshot_date", "followers"])
    daily = snapshots[snapshots["followers"].notna() & snapshots["account_id"].notna()]
    daily = pd.DataFrame({"account_id": daily["account_id"].astype(object),
                          "day": _day_numbers(daily["snapshot_date"]),
                          "followers": daily["followers"].astype(np.int64)})
    daily = daily.sort_values(["account_id", "day", "followers"]).drop_duplicates(
        ["account_id", "day"], keep="last")

    posts = read_latest("posts", lake_root, ["account_id", "platform", "post_id", "published_at",
                                             "post_type", "is_video", "is_live", "reactions",
                                             "comments", "shares"])
    posts = posts[posts["account_id"].notna() & posts["published_at"].notna()]
    tracked = set(posts["account_id"])  # post data, a retweet too, is post tracking
    # a plain repost (X retweet) carries another post's metrics: no post of the account
    posts = posts[~posts["post_type"].fillna("").str.lower().isin(["retweet", "retweeted"])]
    published = pd.to_datetime(posts["published_at"], utc=True)
    figures = posts[["reactions", "comments", "shares"]]
    posts = pd.DataFrame({
        "account_id": posts["account_id"].astype(object),
        "published_at": published,
        "day": published.dt.tz_localize(None).to_numpy("datetime64[D]").astype(np.int64),
        "is_video": posts["is_video"].fillna(False).astype(bool),
        "is_live": posts["is_live"].astype("boolean"),  # NA: live videos not readable
        # NA where the platform gives none of the three figures
        "engagement": figures.sum(axis=1, min_count=1).astype("Int64"),
    })
    gives = posts.assign(has_engagement=posts["engagement"].notna(),
                         has_live=posts["is_live"].notna()).groupby("account_id")
    gives_engagement = gives["has_engagement"].any().to_dict()
    gives_live = gives["has_live"].all().to_dict()

    accounts = sorted(set(daily["account_id"]) | set(posts["account_id"]))
    code = {a: i for i, a in enumerate(accounts)}
    daily["code"] = daily["account_id"].map(code).astype(np.int64)
    posts["code"] = posts["account_id"].map(code).astype(np.int64)
    latest_day = int(daily["day"].max()) if len(daily) else None
    span = 1 << 22  # days fit in 22 bits: one sortable key per (account, day)

    daily_key = daily["code"].to_numpy() * span + daily["day"].to_numpy()
    daily_order = np.argsort(daily_key, kind="stable")
    daily_key = daily_key[daily_order]
    daily_followers = daily["followers"].to_numpy()[daily_order]
    post_key = np.sort(posts["code"].to_numpy() * span + posts["day"].to_numpy())
    post_times = posts.sort_values(["code", "published_at"]).reset_index(drop=True)
    # (account, whole second) keys: seconds < 2**31 and codes < 2**21 fit one int64
    post_seconds = (post_times["published_at"].astype("int64").to_numpy()
                    // _units_per_second(post_times["published_at"]))
    post_time_key = post_times["code"].to_numpy() * (1 << 31) + post_seconds

    owners = {a.account_id: a for a in registry.accounts}
    frames = []
    for grain in ("month", "year"):
        activity = pd.concat([daily[["code", "day"]], posts[["code", "day"]]], ignore_index=True)
        activity["period_start"] = _period_start(activity["day"].to_numpy(), grain)
        periods = activity[["code", "period_start"]].drop_duplicates().reset_index(drop=True)
        starts = periods["period_start"].to_numpy()
        ends = _period_end(starts, grain)
        evaluation = ends.copy()
        if latest_day is not None:
            running = (starts <= latest_day) & (latest_day <= ends)
            evaluation[running] = latest_day
        codes = periods["code"].to_numpy()

        before = np.searchsorted(daily_key, codes * span + starts, side="left") - 1
        has_start = (before >= 0) & (daily_key[np.maximum(before, 0)] // span == codes)
        by_end = np.searchsorted(daily_key, codes * span + ends, side="right") - 1
        has_end = ((by_end >= 0) & (daily_key[np.maximum(by_end, 0)] // span == codes)
                   & (daily_key[np.maximum(by_end, 0)] % span >= starts))
        followers_start = pd.array(np.where(has_start, daily_followers[np.maximum(before, 0)], 0),
                                   dtype="Int64")
        followers_start[~has_start] = pd.NA
        followers_end = pd.array(np.where(has_end, daily_followers[np.maximum(by_end, 0)], 0),
                                 dtype="Int64")
        followers_end[~has_end] = pd.NA

        posts_grain = posts.assign(period_start=_period_start(posts["day"].to_numpy(), grain))
        in_period = posts_grain.groupby(["code", "period_start"]).agg(
            posts=("day", "size"), video_posts=("is_video", "sum"),
            live_posts=("is_live", lambda s: s.sum() if s.notna().all() else pd.NA),
            engagement=("engagement", lambda s: s.sum(min_count=1)))
        periods = periods.join(in_period, on=["code", "period_start"])
        last_30 = _count_in_range(post_key, codes * span + evaluation - 29,
                                  codes * span + evaluation)

        # the last post strictly before the end of day E
        cutoff = codes * (1 << 31) + (evaluation + 1) * 86_400
        last_index = np.searchsorted(post_time_key, cutoff, side="left") - 1
        has_last = last_index >= 0
        if len(post_times):
            has_last &= post_times["code"].to_numpy()[np.maximum(last_index, 0)] == codes
            last_post_at = post_times["published_at"].iloc[np.maximum(last_index, 0)] \
                .reset_index(drop=True).where(has_last)
        else:
            last_post_at = pd.Series(pd.NaT, index=range(len(codes)), dtype="datetime64[us, UTC]")
        last_post_day = (last_post_at.dt.tz_localize(None).to_numpy("datetime64[D]")
                         .astype("int64"))
        days_since = pd.array(evaluation - last_post_day, dtype="Int64")
        days_since[~has_last] = pd.NA

        account_ids = np.array(accounts, dtype=object)[codes]
        is_tracked = np.array([a in tracked for a in account_ids])
        frame = pd.DataFrame({
            "account_id": account_ids,
            "grain": grain,
            "period_start": starts.astype("datetime64[D]"),
            "followers_start": followers_start,
            "followers_end": followers_end,
            "is_tracked": is_tracked,
            "posts_in_period": periods["posts"].to_numpy(),
            "video_in_period": periods["video_posts"].to_numpy(),
            "live_in_period": periods["live_posts"].to_numpy(),
            "engagement_in_period": periods["engagement"].to_numpy(),
            "posts_last_30_days": last_30,
            "last_post_at": last_post_at.to_numpy(),
            "days_since_last_post": days_since,
        })
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True)

    frame["agency_id"] = frame["account_id"].map(lambda a: owners[a].agency_id if a in owners else None)
    frame["platform"] = frame["account_id"].map(
        lambda a: owners[a].platform if a in owners else a.split(":", 1)[0])
    frame["handle"] = frame["account_id"].map(
        lambda a: owners[a].handle if a in owners else a.split(":", 1)[1])
    start = frame["followers_start"]
    end = frame["followers_end"]
    frame["followers_change"] = end - start
    comparable = start.notna() & end.notna() & (start != 0)
    frame["followers_growth_pct"] = (100 * (end - start) / start).astype("Float64").where(comparable)
    frame["followers_growth_ratio"] = (end / start).astype("Float64").where(comparable)
    without_posts = frame["posts_in_period"].isna()
    for name, source, gives in (("posts", "posts_in_period", None),
                                ("video_posts", "video_in_period", None),
                                ("live_posts", "live_in_period", gives_live),
                                ("engagement", "engagement_in_period", gives_engagement)):
        counted = pd.array(pd.to_numeric(frame[source].astype(object)), dtype="Int64")
        # a period without posts: 0, unless the account's posts never carry the figure
        given = (np.ones(len(frame), bool) if gives is None
                 else frame["account_id"].map(lambda a, g=gives: g.get(a, True)).to_numpy(bool))
        counted[without_posts.to_numpy() & given] = 0
        frame[name] = counted
        frame.loc[~frame["is_tracked"], name] = pd.NA
    has_posts = frame["posts"].fillna(0) > 0
    per_post = (frame["engagement"] / frame["posts"]).astype("Float64")
    frame["engagement_per_post"] = per_post.where(has_posts)
    rate_ok = has_posts & frame["followers_end"].notna() & (frame["followers_end"] != 0)
    frame["engagement_rate_pct"] = (100 * per_post / frame["followers_end"]).astype("Float64") \
        .where(rate_ok)
    since = frame["days_since_last_post"]
    status = np.select(
        [frame["posts_last_30_days"] >= 4,
         (since <= 90).fillna(False).to_numpy(bool),
         (since <= 365).fillna(False).to_numpy(bool),
         (since > 365).fillna(False).to_numpy(bool),
         frame["is_tracked"].to_numpy(bool)],
        ["active", "low", "stale", "dormant", "dormant"], "unknown")
    frame["activity_status"] = status
    return frame


def agency_periods(accounts: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Agency-period rows: sums over the agency's account rows, activity and ranks."""
    frame = accounts.copy()
    frame["activity_level"] = frame["activity_status"].map(ACTIVITY_LEVELS)
    frame["comparable_start"] = frame["followers_start"].where(frame["followers_change"].notna())
    grouped = frame.groupby(["agency_id", "grain", "period_start"], dropna=False)
    agencies = grouped.agg(
        platforms=("platform", lambda s: sorted(set(s.dropna()))),
        platform_count=("platform", "nunique"),
        accounts=("account_id", "size"),
        followers_end=("followers_end", lambda s: s.sum(min_count=1)),
        followers_change=("followers_change", lambda s: s.sum(min_count=1)),
        comparable_start=("comparable_start", lambda s: s.sum(min_count=1)),
        posts=("posts", lambda s: s.sum(min_count=1)),
        engagement=("engagement", lambda s: s.sum(min_count=1)),
        activity_level=("activity_level", "max"),
    ).reset_index()
    for name in ("followers_end", "followers_change", "comparable_start", "posts", "engagement"):
        agencies[name] = agencies[name].astype("Int64")
    start = agencies["comparable_start"]
    ok = start.notna() & (start != 0) & agencies["followers_change"].notna()
    agencies["followers_growth_pct"] = (100 * agencies["followers_change"] / start) \
        .astype("Float64").where(ok)
    by_level = {level: name for name, level in ACTIVITY_LEVELS.items()}
    agencies["activity_status"] = agencies["activity_level"].map(by_level)
    period = agencies.groupby(["grain", "period_start"])
    agencies["rank_followers"] = period["followers_end"].rank(method="min", ascending=False) \
        .astype("Int64")
    agencies["rank_growth"] = period["followers_growth_pct"].rank(method="min", ascending=False) \
        .astype("Int64")
    names = {a.id: a for a in registry.agencies}
    agencies["agency_name"] = agencies["agency_id"].map(lambda a: names[a].name if a in names else None)
    agencies["agency_name_en"] = agencies["agency_id"].map(
        lambda a: names[a].name_en if a in names else None)
    agencies["successor_of"] = agencies["agency_id"].map(
        lambda a: list(names[a].successor_of) if a in names else None)
    return agencies


def compute_marts(lake_root: Path, registry: Registry) -> dict[str, pd.DataFrame]:
    """The four public marts, with the contract's columns, from the accepted lake."""
    accounts = account_periods(lake_root, registry)
    agencies = agency_periods(accounts, registry)
    marts = {}
    for grain, suffix in (("month", "monthly"), ("year", "annual")):
        period = "month" if grain == "month" else "year"
        rows = accounts[accounts["grain"] == grain].copy()
        groups = agencies[agencies["grain"] == grain].copy()
        for frame in (rows, groups):
            frame[period] = (frame["period_start"].dt.date if grain == "month"
                             else frame["period_start"].dt.year.astype("int32"))
        columns = ACCOUNT_COLUMNS[:4] + [period] + ACCOUNT_COLUMNS[4:]
        marts[f"account_{suffix}"] = rows[columns].reset_index(drop=True)
        columns = AGENCY_COLUMNS[:4] + [period] + AGENCY_COLUMNS[4:]
        marts[f"agency_{suffix}"] = groups[columns].reset_index(drop=True)
    return marts


def _same(left, right, tolerance: float) -> bool:
    left_missing = left is None or (not isinstance(left, (list, np.ndarray)) and pd.isna(left))
    right_missing = right is None or (not isinstance(right, (list, np.ndarray)) and pd.isna(right))
    if left_missing or right_missing:
        return left_missing and right_missing
    if isinstance(left, (list, np.ndarray)) or isinstance(right, (list, np.ndarray)):
        return list(left) == list(right)
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(left, pd.Timestamp) or isinstance(right, pd.Timestamp):
        return pd.Timestamp(left) == pd.Timestamp(right)
    return left == right


def compare_marts(ours: dict[str, pd.DataFrame], theirs: dict[str, pd.DataFrame],
                  tolerance: float = 1e-9) -> dict[str, list[str]]:
    """Row-by-row differences per mart (empty lists: equal), floats within ``tolerance``."""
    differences: dict[str, list[str]] = {}
    for mart, keys in MART_KEYS.items():
        left = ours[mart].sort_values(keys).reset_index(drop=True)
        right = theirs[mart].sort_values(keys).reset_index(drop=True)
        found: list[str] = []
        if len(left) != len(right):
            found.append(f"{len(left)} rows against {len(right)}")
        else:
            for column in theirs[mart].columns:
                for i, (a, b) in enumerate(zip(left[column].tolist(), right[column].tolist(),
                                               strict=True)):
                    if not _same(a, b, tolerance):
                        found.append(f"row {i} {dict(zip(keys, left.loc[i, keys], strict=True))} {column}: "
                                     f"{a!r} != {b!r}")
                        break
        differences[mart] = found
    return differences


def main(argv: list[str] | None = None) -> int:
    lake_root, registry_path, output = (argv or sys.argv[1:])[:3]
    marts = compute_marts(Path(lake_root), load_registry(Path(registry_path)))
    Path(output).mkdir(parents=True, exist_ok=True)
    for name, frame in marts.items():
        frame.to_pickle(Path(output) / f"{name}.pkl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
