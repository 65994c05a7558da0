"""The marts against a plain-Python reading of the mart definitions (docs/REFERENCE.md), on seeded random data.

The reference below is written straight from the contract's sentences, one loop per
definition, so that the SQL (windows, ASOF joins, ranks) is checked by a second,
independent implementation over many more cases than the hand-written tests.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest

FIRST_DAY = date(2022, 1, 1)
LAST_DAY = date(2024, 12, 31)
ACCOUNTS = [  # (agency, platform, handle)
    ("culture", "facebook", "culture.page"),
    ("culture", "instagram", "culture.gram"),
    ("culture", "x", "culture_x"),
    ("tourism", "youtube", "tourismtv"),
    ("tourism", "telegram", "tourism_news"),
    ("sports", "facebook", "sports.page"),
    ("sports", "x", "sports_x"),
]
NO_PREVIEW = "posts not tracked: the channel has no public preview (t.me/s redirects to the channel page)"
STATUS_LEVEL = {"active": 5, "low": 4, "stale": 3, "dormant": 2, "unknown": 1}


def random_day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def generate(bench, seed: int) -> dict:
    """Fill the bench with random rows; return the same rows as plain Python data."""
    rng = random.Random(seed)
    data = {"snapshots": [], "observations": [], "history": [], "posts": [],
            "runs": [], "accounts": []}
    for agency_id in sorted({a for a, _, _ in ACCOUNTS}):
        bench.agency(agency_id)
    for index, (agency_id, platform, handle) in enumerate(ACCOUNTS):
        account_id = bench.account(agency_id, platform, handle)
        data["accounts"].append((account_id, agency_id, platform, handle))

        def followers() -> int:
            return rng.choice([0, rng.randrange(1, 50), rng.randrange(50, 100_000)])

        for day in {random_day(rng) for _ in range(rng.randrange(0, 12))}:
            count = None if rng.random() < 0.15 else followers()
            bench.snapshot(account_id, day, count)
            data["snapshots"].append((account_id, day, count))
        for day in {random_day(rng) for _ in range(rng.randrange(0, 5))}:
            last_post_on = (day - timedelta(days=rng.randrange(0, 500))
                            if rng.random() < 0.5 else None)
            count = followers()
            bench.observation(account_id, day, count, last_post_on=last_post_on)
            data["observations"].append((account_id, day, count, last_post_on))
        for day in {random_day(rng) for _ in range(rng.randrange(0, 15))}:
            count = followers()
            bench.history(account_id, day, count)
            data["history"].append((account_id, day, count))
        # some pages cannot read live videos (an edge refused): their is_live is NULL
        live_unknown = platform == "facebook" and rng.random() < 0.5
        if index % 4 != 3:  # every fourth account has no posts at all
            for number in range(rng.randrange(0, 60)):
                # bursts of posts, so that some 30-day windows hold four or more
                anchor = random_day(rng)
                for burst in range(rng.choice([1, 1, 5])):
                    published_at = datetime.combine(
                        anchor + timedelta(days=rng.randrange(0, 10)),
                        time(rng.randrange(24), rng.randrange(60)), tzinfo=UTC)
                    post = {
                        "post_id": f"{account_id}-{number}-{burst}",
                        "published_at": published_at,
                        # X: retweets (no posts of the account) among tweets and quotes
                        "post_type": rng.choice(["tweet", "quote", "retweet"])
                        if platform == "x" else None,
                        "reactions": rng.choice([None, rng.randrange(0, 500)]),
                        "comments": rng.choice([None, rng.randrange(0, 50)]),
                        "shares": rng.choice([None, rng.randrange(0, 20)]),
                        "is_video": rng.random() < 0.3,
                        "is_live": None if live_unknown and rng.random() < 0.7
                        else rng.random() < 0.1,
                    }
                    if platform == "telegram":  # a preview shows reactions at most
                        post.update(comments=None, shares=None)
                    bench.post(account_id, **post)
                    data["posts"].append((account_id, post))
                    if rng.random() < 0.1:
                        bench.deletion(account_id, post["post_id"], LAST_DAY)
        for day in {random_day(rng) for _ in range(rng.choice([0, 1, 3]))}:
            # ok runs that read the posts, ok runs that could not, failed and gone runs
            status, reason = rng.choice([("ok", None), ("ok", NO_PREVIEW), ("failed", None),
                                         ("gone", None)])
            bench.extract_run(account_id, day, status, reason)
            data["runs"].append((account_id, day, status == "ok" and reason is None))
    return data


def period_bounds(day: date, grain: str) -> tuple[date, date]:
    if grain == "month":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
    else:
        start = date(day.year, 1, 1)
        following = date(day.year + 1, 1, 1)
    return start, following - timedelta(days=1)


def engagement_of(post: dict) -> int | None:
    """Reactions + comments + shares; NULL when the platform gives none of them."""
    figures = [post[k] for k in ("reactions", "comments", "shares") if post[k] is not None]
    return sum(figures) if figures else None


def reference_account_rows(data: dict, grain: str) -> list[dict]:
    daily: dict[tuple[str, date], tuple[int, int]] = {}  # (account, day) -> (precedence, n)
    for precedence, rows in ((3, data["history"]),
                             (2, [r for r in data["snapshots"] if r[2] is not None]),
                             (1, [r[:3] for r in data["observations"]])):
        for account_id, day, count in rows:
            daily[(account_id, day)] = (precedence, count)  # lower precedence written last
    as_of = max((day for _, day in daily), default=None)
    # post data from the API (a retweet too) or a run that read the posts: post tracking
    tracked = ({account_id for account_id, _ in data["posts"]}
               | {account_id for account_id, _, read in data["runs"] if read})
    # a plain retweet is no post of the account
    own_posts = [(a, p) for a, p in data["posts"] if p["post_type"] != "retweet"]
    post_times = defaultdict(list)
    for account_id, post in own_posts:
        post_times[account_id].append(post["published_at"])
    for account_id, _, _, last_post_on in data["observations"]:
        if last_post_on is not None:
            post_times[account_id].append(datetime.combine(last_post_on, time(0), tzinfo=UTC))

    rows = []
    for account_id, agency_id, platform, handle in data["accounts"]:
        observed = sorted((day, count) for (acc, day), (_, count) in daily.items()
                          if acc == account_id)
        posts = [p for acc, p in own_posts if acc == account_id]
        days = {day for day, _ in observed} | {p["published_at"].date() for p in posts}
        engagements = [engagement_of(p) for p in posts]
        gives_engagement = not posts or any(e is not None for e in engagements)
        gives_live = all(p["is_live"] is not None for p in posts)
        runs = [(day, read) for acc, day, read in data["runs"] if acc == account_id]
        for start, end in sorted({period_bounds(day, grain) for day in days}):
            evaluation_day = as_of if as_of is not None and start <= as_of <= end else end
            before = [count for day, count in observed if day < start]
            inside = [count for day, count in observed if start <= day <= end]
            followers_start = before[-1] if before else None
            followers_end = inside[-1] if inside else None
            change = (followers_end - followers_start
                      if followers_start is not None and followers_end is not None else None)
            comparable = change is not None and followers_start != 0
            in_period = [p for p in posts if start <= p["published_at"].date() <= end]
            # runs in P that all failed to read the posts, and no post in P: no tracking in P
            period_runs = [read for day, read in runs if start <= day <= end]
            is_tracked = account_id in tracked and (
                bool(in_period) or not period_runs or any(period_runs))
            known = [e for e in map(engagement_of, in_period) if e is not None]
            if not is_tracked:
                engagement = live = None
            elif in_period:
                engagement = sum(known) if known else None
                live = (None if any(p["is_live"] is None for p in in_period)
                        else sum(p["is_live"] for p in in_period))
            else:
                engagement = 0 if gives_engagement else None
                live = 0 if gives_live else None
            count = len(in_period) if is_tracked else None
            per_post = engagement / count if count and engagement is not None else None
            seen = [t for t in post_times[account_id] if t.date() <= evaluation_day]
            last_post_at = max(seen) if seen else None
            days_since = (evaluation_day - last_post_at.date()).days if seen else None
            recent = sum(1 for p in posts
                         if evaluation_day - timedelta(days=29) <= p["published_at"].date()
                         <= evaluation_day)
            if recent >= 4:
                status = "active"
            elif days_since is not None:
                status = "low" if days_since <= 90 else "stale" if days_since <= 365 \
                    else "dormant"
            else:
                status = "dormant" if is_tracked else "unknown"
            rows.append({
                "account_id": account_id, "agency_id": agency_id, "platform": platform,
                "handle": handle, grain: start if grain == "month" else start.year,
                "followers_start": followers_start, "followers_end": followers_end,
                "followers_change": change,
                "followers_growth_pct": 100 * change / followers_start if comparable else None,
                "followers_growth_ratio": followers_end / followers_start if comparable else None,
                "posts": count,
                "video_posts": sum(p["is_video"] for p in in_period) if is_tracked else None,
                "live_posts": live,
                "engagement": engagement,
                "engagement_per_post": per_post,
                "engagement_rate_pct": (100 * per_post / followers_end
                                        if per_post is not None and followers_end else None),
                "last_post_at": last_post_at, "days_since_last_post": days_since,
                "activity_status": status,
            })
    return sorted(rows, key=lambda r: (r["account_id"], r[grain]))


def reference_agency_rows(account_rows: list[dict], grain: str) -> list[dict]:
    groups = defaultdict(list)
    for row in account_rows:
        groups[(row["agency_id"], row[grain])].append(row)
    rows = []
    for (agency_id, period), members in groups.items():
        ends = [m["followers_end"] for m in members if m["followers_end"] is not None]
        comparable = [m for m in members if m["followers_change"] is not None]
        start_sum = sum(m["followers_start"] for m in comparable)
        posts = [m["posts"] for m in members if m["posts"] is not None]
        engagement = [m["engagement"] for m in members if m["engagement"] is not None]
        rows.append({
            "agency_id": agency_id, "agency_name": agency_id.title(), "agency_name_en": None,
            "successor_of": [], grain: period,
            "platforms": sorted({m["platform"] for m in members}),
            "platform_count": len({m["platform"] for m in members}),
            "accounts": len(members),
            "followers_end": sum(ends) if ends else None,
            "followers_change": sum(m["followers_change"] for m in comparable)
            if comparable else None,
            "followers_growth_pct": 100 * sum(m["followers_change"] for m in comparable)
            / start_sum if comparable and start_sum else None,
            "posts": sum(posts) if posts else None,
            "engagement": sum(engagement) if engagement else None,
            "activity_status": max((m["activity_status"] for m in members),
                                   key=STATUS_LEVEL.get),
        })
    for row in rows:
        peers = [r for r in rows if r[grain] == row[grain]]
        for value, rank in (("followers_end", "rank_followers"),
                            ("followers_growth_pct", "rank_growth")):
            row[rank] = None if row[value] is None else 1 + sum(
                1 for p in peers if p[value] is not None and p[value] > row[value])
    return sorted(rows, key=lambda r: (r[grain], r["agency_id"]))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_marts_match_the_reference(bench, assert_rows, seed):
    data = generate(bench, seed)
    bench.run()

    for grain, suffix in (("month", "monthly"), ("year", "annual")):
        expected_accounts = reference_account_rows(data, grain)
        assert_rows(bench.rows(f"marts.account_{suffix}", f"true order by account_id, {grain}"),
                    expected_accounts)
        assert_rows(bench.rows(f"marts.agency_{suffix}", f"true order by {grain}, agency_id"),
                    reference_agency_rows(expected_accounts, grain))
