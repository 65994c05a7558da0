"""Deterministic sandbox data: accounts, follower curves and post timelines.

Everything derives from a hash of (seed, platform, account number, ...), never from the
wall clock or from the day being served, so the world on day D+1 continues the world of
day D: the same posts exist (plus the ones published on D+1), engagement only grows,
follower counts move along a smooth curve. Posts are generated lazily one calendar year
of one account at a time, and kept in a bounded cache, so thousands of synthetic accounts
cost nothing until someone asks for them.

Answers about a whole history (how many posts are visible, of which kinds, their views, the
oldest one) add up per-year tallies: a year none of whose posts can still appear, vanish or
gain engagement on the day asked for ("settled") contributes its tally, kept in an unbounded
cache of a few numbers per account-year; only the recent years are walked post by post. The
answers are the same as counting the posts one by one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import random
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from agency_pulse.config import PLATFORMS
from agency_pulse.registry import Registry, normalize_handle

# Follower curves are anchored here so they never depend on the day being served.
REFERENCE_DAY = date(2026, 1, 1)
# Registry accounts are numbered 1..n per platform; synthetic ones from here on.
SYNTHETIC_BASE = 1_000_000
# Engagement keeps growing for this many days after publication, then it is final.
SETTLE_DAYS = 30
# The Instagram account the sandbox's token belongs to (business discovery is asked on it).
OWN_INSTAGRAM_USER_ID = "17841400000000000"

KINDS = ("status", "photo", "album", "link", "shared", "video", "live")

SYNTHETIC_HANDLE_FORMATS = {
    "facebook": "sbx.page.{:05d}",
    "instagram": "sbx.ig.{:05d}",
    "youtube": "SbxChannel{:05d}",
    "x": "sbx_x_{:05d}",
    "telegram": "sbx_tg_{:05d}",
}
_SYNTHETIC_HANDLE_PATTERNS = {
    platform: re.compile("^" + re.escape(fmt.lower()).replace(r"\{:05d\}", r"(\d{5})") + "$")
    for platform, fmt in SYNTHETIC_HANDLE_FORMATS.items()
}
_SYNTHETIC_ID_PREFIXES = {
    "facebook": "6155",
    "instagram": "178419",
    "youtube": "UCsandbox",
    "x": "17000000",
    "telegram": "-1009",
}

# Accounts whose history the brief fixes: (platform, handle) -> profile override.
_SPECIAL_PROFILES: dict[tuple[str, str], dict] = {
    # The defunct Ministry of Culture and Tourism: last post in April 2018.
    ("facebook", "mct.gov.az"): {"created_on": date(2013, 3, 4), "posting_until": date(2018, 4, 19),
                                 "peak_on": date(2018, 4, 19), "growth": 0.12},
    # A forgotten page whose only post is from 2011.
    ("facebook", "aqroazerbaycan"): {"created_on": date(2011, 6, 1),
                                     "single_post_at": datetime(2011, 6, 14, 10, 30, tzinfo=UTC),
                                     "growth": 0.0, "followers_ref": 312},
}
# Agencies that stream live video (the Ministry of Education).
_LIVE_STREAMING_AGENCIES = {"education"}
_LIVE_CAPABLE_PLATFORMS = {"facebook", "youtube"}


def synthetic_handle(platform: str, index: int) -> str:
    """The handle of synthetic account number ``index`` (0-based) on a platform."""
    return SYNTHETIC_HANDLE_FORMATS[platform].format(index)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the parts that is stable across processes (unlike ``hash``)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _rng(*parts: object) -> random.Random:
    return random.Random(stable_hash(*parts))


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1)."""
    return stable_hash(*parts) / 2**64


@dataclass(frozen=True)
class SandboxAccount:
    """One account as the sandbox's platforms know it."""

    platform: str
    handle: str                 # spelled as the registry spells it
    number: int                 # stable within the platform; encodes into post/video ids
    agency_id: str | None
    name: str
    platform_id: str
    created_on: date
    posting_until: date | None  # last day it posts (dormant/defunct accounts)
    single_post_at: datetime | None
    posts_per_day: float
    video_share: float
    live_share: float
    engagement_rate: float
    followers_ref: int          # followers on REFERENCE_DAY (before the ramp-up factor)
    growth: float               # yearly log-growth until peak_on
    peak_on: date | None
    decline: float              # yearly log-decline after peak_on
    hidden_follower_count: bool

    @property
    def key(self) -> str:
        return normalize_handle(self.handle)


@dataclass(frozen=True)
class Post:
    """One post as generated; its visible metrics depend on the day (see ``metrics_on``)."""

    account_number: int
    year: int
    index: int                  # position within the account's year
    published_at: datetime
    kind: str                   # one of KINDS
    final_reactions: int
    final_comments: int
    final_shares: int
    final_views: int
    deleted_on: date | None     # first day it is no longer visible
    duration_seconds: int

    @property
    def is_video(self) -> bool:
        return self.kind in ("video", "live")

    def visible_on(self, day: date) -> bool:
        """Published by the end of ``day`` and not deleted yet."""
        return self.published_at < day_end(day) and (self.deleted_on is None or day < self.deleted_on)


@dataclass(frozen=True)
class PostMetrics:
    reactions: int
    comments: int
    shares: int
    views: int


def day_end(day: date) -> datetime:
    """The instant the sandbox's day ends (UTC): its clock reads this while serving ``day``."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def metrics_on(post: Post, day: date) -> PostMetrics:
    """Engagement of a post at the end of ``day``: grows for SETTLE_DAYS, then stays."""
    age_days = (day_end(day) - post.published_at).total_seconds() / 86400
    if age_days <= 0:
        share = 0.0
    elif age_days >= SETTLE_DAYS:
        share = 1.0
    else:
        share = (1 - math.exp(-age_days / 4)) / (1 - math.exp(-SETTLE_DAYS / 4))
    return PostMetrics(reactions=int(post.final_reactions * share),
                       comments=int(post.final_comments * share),
                       shares=int(post.final_shares * share),
                       views=int(post.final_views * share))


class SandboxWorld:
    """The accounts of a registry (plus synthetic ones) and their deterministic history."""

    def __init__(self, seed: int, registry: Registry | None, extra_accounts_per_platform: int = 0,
                 *, cached_year_blocks: int = 4096):
        self.seed = seed
        self.extra_accounts_per_platform = max(0, int(extra_accounts_per_platform))
        self._by_number: dict[tuple[str, int], SandboxAccount] = {}
        self._by_key: dict[tuple[str, str], SandboxAccount] = {}
        self._by_id: dict[tuple[str, str], SandboxAccount] = {}
        self._year_blocks: OrderedDict[tuple[str, int, int], tuple[Post, ...]] = OrderedDict()
        self._cached_year_blocks = cached_year_blocks
        self._skeletons: OrderedDict[tuple[str, int, int], _Skeleton] = OrderedDict()
        # Per account-year, never evicted (a few numbers each): see _YearFacts, _YearTally.
        self._facts: dict[tuple[str, int, int], _YearFacts] = {}
        self._tallies: dict[tuple[str, int, int], _YearTally] = {}
        self._synthetics: dict[tuple[str, int], SandboxAccount] = {}
        self._lock = threading.Lock()
        # platform -> old handle key -> new handle (the sandbox's ``renamed`` fault)
        self.renamed: dict[str, dict[str, str]] = {}
        numbers = dict.fromkeys(PLATFORMS, 0)
        for agency in (registry.agencies if registry else ()):
            for account in agency.accounts:
                key = (account.platform, normalize_handle(account.handle))
                if key in self._by_key:
                    continue  # the same account under a predecessor and a successor agency
                numbers[account.platform] += 1
                built = self._build_account(
                    account.platform, account.handle, numbers[account.platform], agency.id,
                    account.platform_id, active_from=account.active_from,
                    active_to=account.active_to or agency.active_to,
                    name=agency.name)
                self._register(built)

    # -- accounts -----------------------------------------------------------------------

    def _register(self, account: SandboxAccount) -> None:
        self._by_number[(account.platform, account.number)] = account
        self._by_key[(account.platform, account.key)] = account
        self._by_id[(account.platform, account.platform_id.lower())] = account

    def registry_accounts(self, platform: str) -> list[SandboxAccount]:
        return [a for (p, _), a in self._by_number.items() if p == platform]

    def find(self, platform: str, handle_or_id: str) -> SandboxAccount | None:
        """The account with this handle (case-insensitive, ``@`` ignored) or platform id."""
        wanted = normalize_handle(handle_or_id)
        renamed = self.renamed.get(platform)
        if renamed:
            if wanted in renamed:
                return None  # a renamed account's old handle answers nothing
            old = next((o for o, n in renamed.items() if normalize_handle(n) == wanted), None)
            if old is not None:
                wanted = old
        found = self._by_key.get((platform, wanted)) or self._by_id.get((platform, wanted))
        found = found or self._synthetic_by_handle(platform, wanted) or self._synthetic_by_id(
            platform, handle_or_id.strip())
        if found is not None and renamed and found.key in renamed:
            found = dataclasses.replace(found, handle=renamed[found.key])
        return found

    def by_number(self, platform: str, number: int) -> SandboxAccount | None:
        if number >= SYNTHETIC_BASE:
            return self._synthetic(platform, number - SYNTHETIC_BASE)
        return self._by_number.get((platform, number))

    def _synthetic_by_handle(self, platform: str, key: str) -> SandboxAccount | None:
        match = _SYNTHETIC_HANDLE_PATTERNS[platform].match(key)
        return self._synthetic(platform, int(match.group(1))) if match else None

    def _synthetic_by_id(self, platform: str, platform_id: str) -> SandboxAccount | None:
        prefix = _SYNTHETIC_ID_PREFIXES[platform]
        rest = platform_id[len(prefix):]
        if platform_id.startswith(prefix) and rest.isdigit():
            return self._synthetic(platform, int(rest))
        return None

    def _synthetic(self, platform: str, index: int) -> SandboxAccount | None:
        if not 0 <= index < self.extra_accounts_per_platform:
            return None
        # Built on first demand, then kept (a few hundred bytes each; every request names one).
        found = self._synthetics.get((platform, index))
        if found is None:
            found = self._build_account(platform, synthetic_handle(platform, index), SYNTHETIC_BASE + index,
                                        None, None, active_from=None, active_to=None,
                                        name=f"Sandbox Agency {index:05d}")
            self._synthetics[(platform, index)] = found
        return found

    def _platform_id(self, platform: str, number: int, key: str) -> str:
        if number >= SYNTHETIC_BASE:
            index = number - SYNTHETIC_BASE
            width = {"youtube": 15, "telegram": 9}.get(platform, 11)
            return f"{_SYNTHETIC_ID_PREFIXES[platform]}{index:0{width}d}"
        h = stable_hash(self.seed, platform, key, "id")
        if platform == "facebook":
            return f"1000{h % 10**11:011d}"
        if platform == "instagram":
            return f"178414{h % 10**11:011d}"
        if platform == "youtube":
            raw = base64.urlsafe_b64encode(h.to_bytes(8, "big") + stable_hash(key).to_bytes(8, "big"))
            return "UC" + raw.decode("ascii")[:22]
        if platform == "x":
            return f"1{h % 10**17:017d}"
        return f"-1001{h % 10**9:09d}"

    def _build_account(self, platform: str, handle: str, number: int, agency_id: str | None,
                       platform_id: str | None, *, active_from: date | None,
                       active_to: date | None, name: str | None) -> SandboxAccount:
        key = normalize_handle(handle)
        rng = _rng(self.seed, platform, number, key, "profile")
        synthetic = number >= SYNTHETIC_BASE
        created_on = active_from or date(2010, 1, 1) + timedelta(days=rng.randrange(365 * 11))
        if platform == "x":
            created_on = max(created_on, date(2010, 11, 5))  # post ids are snowflakes from then on
        cadence = rng.choices(["daily", "frequent", "weekly", "rare", "dormant"],
                              weights=[35, 30, 25, 7, 3 if synthetic else 0])[0]
        posts_per_day = {"daily": rng.uniform(1.0, 3.0), "frequent": rng.uniform(0.3, 0.9),
                         "weekly": rng.uniform(0.08, 0.25), "rare": rng.uniform(0.01, 0.05),
                         "dormant": rng.uniform(0.1, 0.5)}[cadence]
        if platform == "youtube":
            posts_per_day *= 0.2
        posting_until = active_to
        if cadence == "dormant":
            posting_until = REFERENCE_DAY - timedelta(days=rng.randrange(400, 2000))
        shape = rng.choices(["growth", "flat", "decline", "peak"], weights=[50, 20, 15, 15])[0]
        growth = {"growth": rng.uniform(0.03, 0.35), "flat": rng.uniform(-0.004, 0.004),
                  "decline": rng.uniform(-0.12, -0.02), "peak": rng.uniform(0.1, 0.4)}[shape]
        peak_on = (date(2021, 1, 1) + timedelta(days=rng.randrange(365 * 4))) if shape == "peak" else None
        if posting_until is not None:
            peak_on = posting_until  # an abandoned account slowly loses its audience
        scale = {"facebook": 60_000, "instagram": 25_000, "youtube": 8_000, "x": 15_000,
                 "telegram": 6_000}[platform]
        followers_ref = int(scale * math.exp(rng.gauss(0, 1.1)))
        live = agency_id in _LIVE_STREAMING_AGENCIES or (synthetic and rng.random() < 0.1)
        profile = {
            "created_on": created_on, "posting_until": posting_until, "single_post_at": None,
            "growth": growth, "peak_on": peak_on, "followers_ref": followers_ref,
        }
        profile.update(_SPECIAL_PROFILES.get((platform, key), {}))
        if profile["peak_on"] and profile["peak_on"] < profile["created_on"]:
            profile["peak_on"] = None
        return SandboxAccount(
            platform=platform, handle=handle, number=number, agency_id=agency_id,
            name=name or handle,
            platform_id=platform_id or self._platform_id(platform, number, key),
            created_on=profile["created_on"], posting_until=profile["posting_until"],
            single_post_at=profile["single_post_at"], posts_per_day=posts_per_day,
            video_share=rng.uniform(0.05, 0.35) if platform != "youtube" else 1.0,
            live_share=(rng.uniform(0.1, 0.25) if live and platform in _LIVE_CAPABLE_PLATFORMS else 0.0),
            engagement_rate=rng.uniform(0.001, 0.02), followers_ref=profile["followers_ref"],
            growth=profile["growth"], peak_on=profile["peak_on"], decline=rng.uniform(0.02, 0.15),
            hidden_follower_count=platform == "youtube" and rng.random() < 0.15,
        )

    # -- followers ------------------------------------------------------------------------

    def followers_on(self, account: SandboxAccount, day: date) -> int:
        """The account's audience at the end of ``day``: a smooth curve with tiny daily noise."""
        if day < account.created_on:
            return 0
        if account.peak_on and day > account.peak_on:
            level = account.followers_ref * math.exp(
                account.growth * (account.peak_on - REFERENCE_DAY).days / 365.25
                - account.decline * (day - account.peak_on).days / 365.25)
        else:
            level = account.followers_ref * math.exp(account.growth * (day - REFERENCE_DAY).days / 365.25)
        ramp = 1 - math.exp(-((day - account.created_on).days + 1) / 120)
        noise = 1 + 0.0006 * (_unit(self.seed, account.platform, account.number, day.toordinal()) - 0.5)
        return max(1, round(level * ramp * noise))

    # -- posts ----------------------------------------------------------------------------

    def iter_visible_posts(self, account: SandboxAccount, day: date,
                           not_before: datetime | None = None) -> Iterator[Post]:
        """Posts visible at the end of ``day``, newest first, stopping before ``not_before``.

        Lazy by calendar year, so reading the first page never generates ten years.
        """
        first_year = max(account.created_on.year, not_before.year if not_before else 0)
        end = day_end(day)
        for year in range(day.year, first_year - 1, -1):
            for post in reversed(self._year_posts(account, year)):
                if not_before is not None and post.published_at < not_before:
                    return
                if post.published_at < end and (post.deleted_on is None or day < post.deleted_on):
                    yield post

    def posts_visible_on(self, account: SandboxAccount, day: date) -> list[Post]:
        """Every post visible at the end of ``day``, newest first."""
        return list(self.iter_visible_posts(account, day))

    def posts_of_year(self, account: SandboxAccount, year: int) -> tuple[Post, ...]:
        """Every post generated for the year, deleted and future ones included, oldest first."""
        return self._year_posts(account, year) if year >= account.created_on.year else ()

    def post_by_position(self, account: SandboxAccount, year: int, index: int) -> Post | None:
        """The post that ``(year, index)`` names (as encoded in platform post ids)."""
        if year < account.created_on.year or year > 2100:
            return None
        posts = self._year_posts(account, year)
        return posts[index] if 0 <= index < len(posts) else None

    def message_offsets(self, account: SandboxAccount, until_year: int) -> dict[int, int]:
        """Posts generated before each year: a post's message id is ``offset[year] + index + 1``."""
        offsets, total = {}, 0
        for year in range(account.created_on.year, until_year + 1):
            offsets[year] = total
            total += self._year_facts(account, year).size
        return offsets

    def message_number(self, account: SandboxAccount, post: Post) -> int:
        """The post's 1-based position in the account's whole history (Telegram message id)."""
        return self.message_offsets(account, post.year)[post.year] + post.index + 1

    def _memo(self, cache: dict, key: tuple, make, bound: int | None = None):
        """``cache[key]``, made by ``make()`` (outside the lock) when missing. A bounded cache
        (an OrderedDict) keeps its ``bound`` most recently used entries."""
        with self._lock:
            cached = cache.get(key)
            if cached is not None and bound is not None:
                cache.move_to_end(key)
        if cached is not None:
            return cached
        value = make()
        with self._lock:
            cache[key] = value
            while bound is not None and len(cache) > bound:
                cache.popitem(last=False)
        return value

    def _year_posts(self, account: SandboxAccount, year: int) -> tuple[Post, ...]:
        return self._memo(self._year_blocks, (account.platform, account.number, year),
                          lambda: self._generate_year(account, year), self._cached_year_blocks)

    def _year_skeleton(self, account: SandboxAccount, year: int) -> _Skeleton:
        """When the year's posts were published and deleted: cheap, so counting is cheap."""
        return self._memo(self._skeletons, (account.platform, account.number, year),
                          lambda: self._generate_skeleton(account, year),
                          self._cached_year_blocks * 4)

    def _generate_skeleton(self, account: SandboxAccount, year: int) -> _Skeleton:
        if account.single_post_at is not None:
            if account.single_post_at.year != year:
                return _Skeleton.empty()
            return _Skeleton(np.array([int(account.single_post_at.timestamp())], dtype=np.int64),
                             np.zeros(1, dtype=np.int64))
        first = max(date(year, 1, 1), account.created_on)
        last = min(date(year, 12, 31), account.posting_until or date.max)
        if last < first:
            return _Skeleton.empty()
        # Timing and deletion use their own (frozen, legacy) stream, vectorised per year, so
        # counting posts never needs their details.
        rng = np.random.RandomState(stable_hash(self.seed, account.platform, account.number, year, "timing") % 2**32)
        days = last.toordinal() - first.toordinal() + 1
        per_day = rng.poisson(account.posts_per_day, days)
        total = int(per_day.sum())
        seconds = rng.randint(6 * 3600, 22 * 3600, size=total)
        deleted = rng.random_sample(total) < 0.03
        delays = rng.randint(1, 41, size=total)
        day_offsets = np.repeat(np.arange(days, dtype=np.int64), per_day)
        first_midnight = int(datetime.combine(first, time(0), tzinfo=UTC).timestamp())
        published = np.sort(first_midnight + day_offsets * 86400 + seconds)
        published_ordinals = first.toordinal() + (published - first_midnight) // 86400
        deleted_on = np.where(deleted, published_ordinals + delays, 0)
        return _Skeleton(published.astype(np.int64), deleted_on.astype(np.int64))

    def count_visible_posts(self, account: SandboxAccount, day: date) -> int:
        """How many posts are visible at the end of ``day``, without building them."""
        end = int(day_end(day).timestamp())
        ordinal = day.toordinal()
        total = 0
        for year in range(account.created_on.year, day.year + 1):
            facts = self._year_facts(account, year)
            if facts.settled(end, ordinal):
                total += facts.kept
                continue
            total += int(self._visible_mask(self._year_skeleton(account, year), end, ordinal).sum())
        return total

    def visible_kind_counts(self, account: SandboxAccount, day: date) -> dict[str, int]:
        """Posts visible at the end of ``day`` per kind (every kind of KINDS, zeros included)."""
        end, ordinal = day_end(day), day.toordinal()
        counts = dict.fromkeys(KINDS, 0)
        for year in range(account.created_on.year, day.year + 1):
            if self._year_facts(account, year).settled(int(end.timestamp()), ordinal):
                for kind, count in zip(KINDS, self._year_tally(account, year).kept_kinds, strict=True):
                    counts[kind] += count
                continue
            for post in self._year_posts(account, year):
                if post.visible_on(day):
                    counts[post.kind] += 1
        return counts

    def visible_views(self, account: SandboxAccount, day: date) -> int:
        """The views (as ``metrics_on(post, day)``) of every post visible at the end of ``day``."""
        end, ordinal = day_end(day), day.toordinal()
        end_epoch = int(end.timestamp())
        total = 0
        for year in range(account.created_on.year, day.year + 1):
            facts = self._year_facts(account, year)
            if facts.settled(end_epoch, ordinal) and facts.last_published + SETTLE_DAYS * 86400 <= end_epoch:
                total += self._year_tally(account, year).kept_views  # final views, all of them
                continue
            total += sum(metrics_on(post, day).views for post in self._year_posts(account, year)
                         if post.visible_on(day))
        return total

    def oldest_visible_position(self, account: SandboxAccount, day: date) -> tuple[int, int] | None:
        """(year, index) of the oldest post visible at the end of ``day``; None when none is."""
        end, ordinal = int(day_end(day).timestamp()), day.toordinal()
        for year in range(account.created_on.year, day.year + 1):
            facts = self._year_facts(account, year)
            if facts.settled(end, ordinal):
                if facts.first_kept >= 0:
                    return year, facts.first_kept
                continue
            visible = self._visible_mask(self._year_skeleton(account, year), end, ordinal)
            if visible.any():
                return year, int(np.argmax(visible))
        return None

    @staticmethod
    def _visible_mask(skeleton: _Skeleton, end: int, ordinal: int) -> np.ndarray:
        return (skeleton.published < end) & ((skeleton.deleted_on == 0) | (ordinal < skeleton.deleted_on))

    def _year_facts(self, account: SandboxAccount, year: int) -> _YearFacts:
        return self._memo(self._facts, (account.platform, account.number, year),
                          lambda: self._count_year(account, year))

    def _count_year(self, account: SandboxAccount, year: int) -> _YearFacts:
        skeleton = self._year_skeleton(account, year)
        kept = skeleton.deleted_on == 0
        return _YearFacts(size=len(skeleton.published), kept=int(kept.sum()),
                          first_kept=int(np.argmax(kept)) if kept.any() else -1,
                          last_published=int(skeleton.published.max()) if len(skeleton.published) else 0,
                          last_deleted=int(skeleton.deleted_on.max()) if len(skeleton.deleted_on) else 0)

    def _year_tally(self, account: SandboxAccount, year: int) -> _YearTally:
        return self._memo(self._tallies, (account.platform, account.number, year),
                          lambda: self._tally_year(account, year))

    def _tally_year(self, account: SandboxAccount, year: int) -> _YearTally:
        # An old year is walked once for its tally: its posts do not push the recent years'
        # blocks (which every daily read needs) out of the bounded cache.
        block_key = (account.platform, account.number, year)
        with self._lock:
            block = self._year_blocks.get(block_key)
        if block is None:
            block = self._generate_year(account, year)
        kinds = dict.fromkeys(KINDS, 0)
        views = 0
        for post in block:
            if post.deleted_on is None:
                kinds[post.kind] += 1
                views += post.final_views
        return _YearTally(kept_kinds=tuple(kinds.values()), kept_views=views)

    def _generate_year(self, account: SandboxAccount, year: int) -> tuple[Post, ...]:
        rng = _rng(self.seed, account.platform, account.number, year, "details")
        posts: list[Post] = []
        audience_day, audience = None, 0
        skeleton = self._year_skeleton(account, year)
        for epoch, deleted_ordinal in zip(skeleton.published.tolist(), skeleton.deleted_on.tolist(), strict=True):
            published = datetime.fromtimestamp(epoch, UTC)
            if published.date() != audience_day:
                audience_day, audience = published.date(), self.followers_on(account, published.date())
            deleted_on = date.fromordinal(deleted_ordinal) if deleted_ordinal else None
            posts.append(self._make_post(account, published, deleted_on, year, len(posts), rng, audience))
        return tuple(posts)

    def _make_post(self, account: SandboxAccount, published: datetime, deleted_on: date | None, year: int,
                   index: int, rng: random.Random, audience: int) -> Post:
        roll = rng.random()
        if roll < account.live_share:
            kind = "live"
        elif roll < account.live_share + account.video_share:
            kind = "video"
        else:
            kind = rng.choices(["status", "photo", "album", "link", "shared"], weights=[20, 45, 10, 15, 10])[0]
        spread = math.exp(rng.gauss(0, 0.8))
        if account.platform == "youtube":
            # Videos travel beyond the subscribers; likes follow the views.
            views = int(audience * rng.uniform(0.3, 5.0) * spread)
            reactions = int(views * rng.uniform(0.01, 0.05))
        else:
            views = int(audience * rng.uniform(0.05, 0.8) * (3 if kind in ("video", "live") else 1))
            reactions = int(audience * account.engagement_rate * spread)
        comments = int(reactions * rng.uniform(0.02, 0.2))
        shares = 0 if rng.random() < 0.3 else int(reactions * rng.uniform(0.01, 0.15))
        duration = rng.randint(1200, 7200) if kind == "live" else rng.randint(30, 900)
        return Post(account_number=account.number, year=year, index=index,
                    published_at=published, kind=kind, final_reactions=reactions,
                    final_comments=comments, final_shares=shares, final_views=views,
                    deleted_on=deleted_on, duration_seconds=duration)

    # -- ids that encode a post's position -------------------------------------------------

    def encode_video_id(self, post: Post) -> str:
        """An 11-character YouTube-style id (64 bits, as real ones) that decodes back to
        (account number, year, index)."""
        payload = struct.pack(">IBH", post.account_number, post.year - 2000, post.index)[1:]
        check = self._check(payload)
        return base64.urlsafe_b64encode(self._scramble(payload, check) + check).decode("ascii")[:11]

    def decode_video_id(self, video_id: str) -> tuple[int, int, int] | None:
        """(account number, year, index) of an id made by ``encode_video_id``; None otherwise."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{11}", video_id or ""):
            return None
        raw = base64.urlsafe_b64decode(video_id + "=")
        check = raw[6:8]
        payload = self._scramble(raw[:6], check)
        if self._check(payload) != check:
            return None
        number, year, index = struct.unpack(">IBH", b"\x00" + payload)
        return number, 2000 + year, index

    def _scramble(self, payload: bytes, check: bytes) -> bytes:
        # XOR with a key drawn from the check bytes, so neighbouring videos look unrelated.
        key = stable_hash(self.seed, check, "video-id-key").to_bytes(8, "big")
        return bytes(a ^ b for a, b in zip(payload, key, strict=False))

    def _check(self, payload: bytes) -> bytes:
        return stable_hash(self.seed, payload).to_bytes(8, "big")[:2]


@dataclass(frozen=True)
class _Skeleton:
    """One account-year of posts, oldest first: Unix seconds published, ordinal day deleted (0: never)."""

    published: np.ndarray
    deleted_on: np.ndarray

    @staticmethod
    def empty() -> _Skeleton:
        return _Skeleton(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class _YearFacts:
    """One account-year's posts in a few numbers, from its skeleton (the same on every day)."""

    size: int            # posts generated for the year
    kept: int            # of which never deleted
    first_kept: int      # index of the oldest never deleted (-1: none)
    last_published: int  # Unix seconds of the newest (0: no posts)
    last_deleted: int    # latest ordinal day one is deleted on (0: none is)

    def settled(self, end: int, ordinal: int) -> bool:
        """Whether on the day ending at ``end`` (ordinal ``ordinal``) every post of the year is
        published and every deletion done, so its visible posts are exactly the kept ones."""
        return self.last_published < end and self.last_deleted <= ordinal


@dataclass(frozen=True)
class _YearTally:
    """Never-deleted posts of one account-year per kind (in KINDS order) and their final views."""

    kept_kinds: tuple[int, ...]
    kept_views: int
