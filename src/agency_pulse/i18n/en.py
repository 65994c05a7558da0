"""English: every sentence and label of the report and the UI pages (see `agency_pulse.i18n`)."""

MESSAGES = {
    # ------------------------------------------------------------------ numbers and lists
    "ordinal": {"one": "{n}st", "two": "{n}nd", "few": "{n}rd", "other": "{n}th"},
    "number.not_available": "n/a",
    "number.thousand": "{n} thousand",
    "number.thousand.nearly": "nearly {n} thousand",
    "number.thousand.over": "over {n} thousand",
    "number.million": "{n} million",
    "number.million.nearly": "nearly {n} million",
    "number.million.over": "over {n} million",
    "list.and": "and",
    "list.none_of": "or",

    # ------------------------------------------------------------------ words for data values
    "status.active": "active",
    "status.low": "low",
    "status.stale": "stale",
    "status.dormant": "dormant",
    "status.unknown": "unknown",
    "extract.ok": "ok",
    "extract.failed": "failed",
    "extract.gone": "gone",
    "extract.skipped": "skipped",
    "extract.kept": "kept",

    # ------------------------------------------------------------------ agency paragraphs
    "standing.no_followers": "No follower figures for {agency} in this period.",
    "standing.ranked": {
        "one": "Ranked {rank_ordinal} by followers, with {followers} across {accounts} account.",
        "other": "Ranked {rank_ordinal} by followers, with {followers} across {accounts} accounts.",
    },
    "standing.ranked_growth": {
        "one": "Ranked {rank_ordinal} by followers, with {followers} across {accounts} account "
               "({growth} on the pages counted at both ends).",
        "other": "Ranked {rank_ordinal} by followers, with {followers} across {accounts} accounts "
                 "({growth} on the pages counted at both ends).",
    },
    "standing.successor": "It succeeds the {agencies}.",
    "account.sentence": "{account}: {details}.",
    "followers.none": "no follower count in this period",
    "followers.figures": "({start} → {end})",
    "followers.figures_change": "({start} → {end}, {change})",
    "followers.from_none": "followers rose from none to {end} {figures}",
    "followers.multiple": "followers {multiple} to {end} {figures}",
    "multiple.2": "doubled",
    "multiple.2.nearly": "nearly doubled",
    "multiple.2.more": "more than doubled",
    "multiple.3": "tripled",
    "multiple.3.nearly": "nearly tripled",
    "multiple.3.more": "more than tripled",
    "multiple.4": "quadrupled",
    "multiple.4.nearly": "nearly quadrupled",
    "multiple.4.more": "more than quadrupled",
    "multiple.n": "grew {n}-fold",
    "multiple.n.nearly": "grew nearly {n}-fold",
    "multiple.n.more": "grew more than {n}-fold",
    "followers.grew": "followers grew {change} to {end} {figures}",
    "followers.steady": "followers held steady at {end} {figures}",
    "followers.fell": "followers fell from {start} to {end} {figures}",
    "followers.fell_halved": "followers fell from {start} to {end}, less than half {figures}",
    "new.counted": {"one": "{followers} follower in {month}",
                    "other": "{followers} followers in {month}"},
    "new.successor": "opened a new page after the reorganisation",
    "new.successor_counted": "opened a new page after the reorganisation, first counted with {counted}",
    "new.first_counted": "first counted with {counted}",
    "new.first_in_period": "first counted in this period",
    "new.now": ", now {followers}",
    "activity.only_post": "the only post on the page is from {year}",
    "activity.dormant_since": "dormant: the last post is from {date}",
    "activity.never_posted": "dormant: it has never posted",
    "activity.active": {"one": "posted {posts} time ({rate} a week)",
                        "other": "posted {posts} times ({rate} a week)"},
    "activity.low": "posted rarely: {count}{last}",
    "activity.low.posts": {"one": "{posts} post", "other": "{posts} posts"},
    "activity.low.few": "few posts",
    "activity.low.last": ", the last on {date}",
    "activity.stale": "quiet since {date}",
    "activity.unknown": "no post data",
    "activity.posted": {"one": "posted {posts} time", "other": "posted {posts} times"},
    "formats.all_live": "every post was a live stream",
    "formats.mostly_live": "most posts were live streams ({share})",
    "formats.some_live": "{share} of posts were live streams",
    "formats.mostly_video": "mostly video ({share} of posts)",
    "formats.some_video": "video made up {share} of posts",
    "platforms.present": "Present on {platforms}",
    "platforms.absent": "no account on {platforms}",
    "platforms.absent_only": "No account on {platforms}",
    "missing.account": "No data for {account} in this period.",
    "missing.account_why": "No data for {account} in this period: {why}.",
    "missing.why": "the last extraction reported {status}",
    "missing.why_reason": "the last extraction reported {status} ({reason})",
    "missing.no_observation": "no observation in the period",

    # ------------------------------------------------------------------ the report document
    "notice.synthetic": (
        "Synthetic data: these figures come from the Agency Pulse sandbox, not from the "
        "platforms. They are made up and say nothing true about the agencies named; do not "
        "quote them."),
    "report.title.annual": "Agency Pulse: annual report {period}",
    "report.title.monthly": "Agency Pulse: monthly report {period}",
    "report.rules_note": (
        "Paragraphs follow fixed rules (see Methods at the end): growth is compared between "
        "the last count before the period and the last count inside it; a page first "
        "counted in the period is new, never a loss."),
    "report.heading.coverage": "Data coverage",
    "report.heading.leaderboards": "Leaderboards",
    "report.heading.charts": "Charts",
    "report.heading.agencies": "Agencies",
    "report.heading.methods": "Methods",
    "coverage.summary": {
        "one": "Data from {start} to {end}: {with_data} of {total} account has figures.",
        "other": "Data from {start} to {end}: {with_data} of {total} accounts have figures.",
    },
    "coverage.no_data": "No data: {account} ({agency}): {reason}.",
    "coverage.no_followers": "No follower count: {account} ({agency}).",
    "coverage.posts_not_tracked": "Posts not tracked: {account} ({agency}).",
    "coverage.no_extract_log": ("The warehouse has no extract log for these accounts, so "
                                "reasons for gaps are not known."),
    # The chart, partial-month and caveat words: `report.chart_texts.text(key, style)` reads
    # "charts." + key.
    "charts.no_data": "{title}: no data",
    "charts.first_counted": "account first counted (not growth)",
    "charts.partial_month": "partial month",
    "charts.partial_start": "{month} is a partial month: data from {day}.",
    "charts.partial_end": "{month} is a partial month: data to {day}.",
    # the title of a table or chart of a partial month's figures (a monthly report)
    "charts.partial_title_start": "{title} (partial month: data from {day})",
    "charts.partial_title_end": "{title} (partial month: data to {day})",
    "charts.within_rounding": "within rounding",
    "charts.youtube_rounding": (
        "YouTube shows subscriber counts rounded to three significant figures: a change no larger "
        "than the rounding step is shown as \"within rounding\"."),
    "charts.ranking_cut": "{title} (top {top} and bottom {bottom} of {total})",
    "charts.agency_followers": "Followers by agency, month by month (lines join pages counted at both ends)",
    "charts.account_followers": "Followers by account, month by month",
    "charts.agency_posts": "Posts per month",
    "charts.all_posts": "Posts per month, all agencies",
    "charts.growth_ranking": "Follower growth ranking (pages counted at both ends)",
    "charts.growth_year": "Follower growth {year} (pages counted at both ends)",
    "board.overall": "All platforms: agencies",
    "column.rank": "Rank",
    "column.agency": "Agency",
    "column.platforms": "Platforms",
    "column.platform": "Platform",
    "column.account": "Account",
    "column.followers": "Followers",
    "column.change": "Change",
    "column.growth": "Growth",
    "column.growth_rank": "Growth rank",
    "column.posts": "Posts",
    "column.posts_per_week": "Posts / week",
    "column.engagement_per_post": "Engagement / post",
    "column.activity": "Activity",
    "column.last_post": "Last post",
    "column.last_extraction": "Last extraction",
    "methods.sources": (
        "Sources. Figures come from the platforms' public interfaces (a daily count of each "
        "account's followers and the posts it published) and, where a platform gives none, from "
        "counts observed by hand. Only the monitoring's own tables are used; nothing is estimated."),
    "methods.growth": (
        "Follower growth compares the last count before the period with the last count inside "
        "it. An agency's growth counts only the pages counted at both ends, so a page first "
        "counted during the period is new in the data, never a gain or a loss."),
    "methods.words": (
        "Words for change: \"doubled\", \"tripled\" or \"grew 5-fold\" when followers grew by a "
        "ratio of 1.9 or more; \"grew\" at +2% or more; \"held steady\" within 2% either way; "
        "\"fell\" at −2% or less, with \"less than half\" when half or more were lost."),
    "methods.rounding": (
        "Rounded figures say how they were rounded: \"nearly 23 thousand\" is a little under "
        "23,000, \"over 10 thousand\" a little above; the exact figures follow in brackets."),
    "methods.posts_per_week": (
        "Posts per week divide the period's posts by the weeks covered; a period still running "
        "counts only the days up to its last day with data."),
    "methods.engagement": (
        "Engagement per post is reactions, comments and shares per post, where the platform "
        "gives them; it is \"not available\" (n/a) where the platform gives none (Telegram), "
        "never 0."),
    "methods.activity": (
        "Activity at the period's end: active (4 or more posts in the last 30 days), posting "
        "rarely (the last post within 90 days), quiet (91 to 365 days), dormant (over a year, "
        "or never posted)."),
    "methods.missing": (
        "Missing data: an account listed for an agency but without figures in the period is "
        "named under Data coverage with the reason its latest collection gave. An account "
        "retired on purpose is no longer collected; that is not an error."),
    "methods.dates": "Dates and months are UTC.",

    # ------------------------------------------------------------------ the UI pages
    "ui.nav.leaderboard": "Leaderboard",
    "ui.nav.quality": "Data quality",
    "ui.nav.latest_report": "Latest report",
    "ui.switch_language": "Azərbaycanca",
    "ui.leaderboard.title": "Leaderboard {year}",
    "ui.leaderboard.data_to": "Data to {date}.",
    "ui.leaderboard.other_years": "Other years:",
    "ui.leaderboard.report": "Latest report ({name})",
    "ui.leaderboard.rows": "Rows {first}–{last} of {total}.",
    "ui.leaderboard.no_rows_here": "No rows on this page ({total} in all).",
    "ui.leaderboard.previous": "previous page",
    "ui.leaderboard.next": "next page",
    "ui.leaderboard.all_boards": "All leaderboards",
    "ui.leaderboard.growth": "Growth ranking",
    "ui.agency.back": "back to the leaderboard",
    "ui.agency.trends": "Trends",
    "ui.agency.accounts": "Accounts",
    "ui.agency.no_data": "no data in {year}",
    "ui.agency.retired": "retired ({reason})",
    "ui.agency.not_logged": "not logged",
    "ui.quality.title": "Data quality",
    "ui.quality.latest": "Latest validation per dataset and platform",
    "ui.quality.no_runs": "No validation results in the warehouse yet.",
    "ui.quality.dataset": "Dataset",
    "ui.quality.partition": "Partition",
    "ui.quality.validated_at": "Validated at",
    "ui.quality.rows": "Rows",
    "ui.quality.result": "Result",
    "ui.quality.expectations": "Expectations",
    "ui.quality.failures": "Failures",
    "ui.quality.warnings": "Warnings",
    "ui.quality.passed": "passed",
    "ui.quality.failed": "failed",
    "ui.quality.failed_of": "{failed} failed of {evaluated}",
    "ui.quality.quarantined": "Quarantined batches",
    "ui.quality.why": "Why",
    "ui.quality.quarantined_to": "Quarantined to",
    "ui.quality.no_quarantined": "No quarantined batches.",
    "ui.quality.extract_log": "Extract log (latest run)",
    "ui.quality.no_log": "The warehouse has no extract log.",
    "ui.quality.empty_log": "The extract log is empty.",
    "ui.quality.run_date": "Run date",
    "ui.quality.status": "Status",
    "ui.quality.reason": "Reason",
    "ui.quality.calls": "Calls",
    "ui.quality.units": "Units",
    "ui.quality.retired": "retired",
    "ui.error.no_data_title": "No data yet",
    "ui.error.no_warehouse": "{detail}",
    "ui.error.not_found_title": "Not found",
    "ui.error.bad_request_title": "Bad request",
    "ui.error.sign_in_title": "Sign in to Airflow",
    "ui.error.sign_in": "These pages are behind Airflow's sign-in.",
    "ui.error.sign_in_link": "Sign in",
    "ui.error.bad_parameter": "This page cannot be shown for that value of {names}.",
    "ui.error.bad_page": "page must be a whole number from 1, not {value}",
    "ui.error.bad_page_range": "there is no page {page}: the last page is {last}",
    "ui.error.bad_platform": "platform must be one of {platforms}, not {value}",
    "ui.error.bad_year": "year must be a year such as 2026, not {value}",
    "ui.error.bad_language": "lang must be one of {languages}, not {value}",
    "ui.error.no_marts": "the marts have no data yet: run `agency-pulse build` first",
    "ui.error.no_year": "no figures for {year}",
    "ui.error.no_agency": "no agency {agency} in {year}",
    "ui.error.no_report": "no report written yet: run `agency-pulse report`",
}
