-- Followers, posts, engagement and activity of every account period (docs/REFERENCE.md, Warehouse).
-- Incremental: the periods int_account_periods recomputed are computed again, a month from its
-- days, a year from its months (the stored ones and the new: their posts and last figure);
-- a period's start figure and the last post before the recomputed days come from the
-- account's latest stored period (its end), not from the whole history.
-- depends_on: {{ ref('build_scope') }}, {{ ref('stg_lake__observations') }}, {{ ref('int_account_post_events') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_periods_to_recompute() }}",
) }}
with

{% if is_incremental() %}
{%- set first_month = day_literal("select cast(date_trunc('month', min(from_day)) as date) from " ~ ref('build_scope')) %}
{%- set first_year = day_literal("select cast(date_trunc('year', min(from_day)) as date) from " ~ ref('build_scope')) %}

periods as (

    select * from {{ ref('int_account_periods') }} as recomputed
    where period_end >= {{ recompute_from('recomputed.account_id') }}

),

-- the account's latest stored period of each grain (all stored ones end before the first
-- day to recompute)
carried as (

    select * from {{ this }}
    qualify row_number() over (
        partition by account_id, grain
        order by period_start desc
    ) = 1

),

daily_followers as (

    select * from {{ ref('int_account_daily_followers') }}
    where observed_on >= {{ first_month }}

),

posts as (

    -- 30 days more: the 30 days up to a period's evaluation day may begin before its month
    select * from {{ ref('int_account_posts') }}
    where published_on >= {{ first_month }} - 30

),

observations as (

    select * from {{ ref('stg_lake__observations') }}

),

-- the posts of the recomputed days, every manual last post, and the last post the stored
-- periods knew (the latest at their end: no earlier moment can matter any more)
post_events as (

    select account_id, published_at as posted_at, from posts
    where published_on >= {{ first_month }}

    union all

    select
        account_id,
        cast(last_post_on as timestamp) at time zone 'UTC' as posted_at,
    from observations
    where last_post_on is not null
        and account_id is not null

    union all

    select account_id, last_post_at as posted_at, from carried
    where last_post_at is not null

),

-- the account's stored months of the years recomputed (their days are not read again)
stored_months as (

    select * from {{ this }}
    where grain = 'month'
        and period_start >= {{ first_year }}

),
{% else %}
periods as (

    select * from {{ ref('int_account_periods') }}

),

daily_followers as (

    select * from {{ ref('int_account_daily_followers') }}

),

posts as (

    select * from {{ ref('int_account_posts') }}

),

post_events as (

    select * from {{ ref('int_account_post_events') }}

),
{% endif %}

post_facts as (

    select * from {{ ref('int_account_post_facts') }}

),

post_tracking as (

    select * from {{ ref('int_account_post_tracking') }}

),

post_reads as (

    select * from {{ ref('int_account_post_reads') }}
    {%- if is_incremental() %}
    where run_date >= {{ first_year }}
    {%- endif %}

),

grains as (

    select grain from (values ('month'), ('year')) as grains (grain)

),

-- Equi-joins on calendar buckets instead of range and as-of joins over the whole history:
-- every bucket of observations or posts is one of the account's periods.
-- a period from its days (after an incremental load: a recomputed month; its year below)
followers_by_bucket as (

    select
        daily_followers.account_id,
        grains.grain,
        cast(date_trunc(grains.grain, daily_followers.observed_on) as date) as period_start,
        arg_max(daily_followers.followers, daily_followers.observed_on) as followers_last,
    from daily_followers
    cross join grains
    {%- if is_incremental() %}
    semi join periods
        on periods.account_id = daily_followers.account_id
        and periods.grain = grains.grain
        and periods.period_start
            = cast(date_trunc(grains.grain, daily_followers.observed_on) as date)
    where grains.grain = 'month'
    {%- endif %}
    group by all

),

followers_by_period as (

    select * from followers_by_bucket
    {%- if is_incremental() %}

    union all

    -- a year from its months: the last figure of its latest month with one
    select
        account_id,
        'year' as grain,
        cast(date_trunc('year', period_start) as date) as period_start,
        arg_max(followers_last, period_start)
            filter (where followers_last is not null) as followers_last,
    from (
        select account_id, period_start, followers_last, from followers_by_bucket
        union all
        select account_id, period_start, followers_end as followers_last, from stored_months
    )
    group by all
    {%- endif %}

),

period_followers as (

    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        followers_by_period.followers_last,
    from periods
    left join followers_by_period
        using (account_id, grain, period_start)
    {%- if is_incremental() %}

    union all

    -- the last figure known at the end of the latest stored period
    select
        account_id,
        grain,
        period_start,
        coalesce(followers_end, followers_start) as followers_last,
    from carried
    {%- endif %}

),

followers_at_bounds as (

    select
        account_id,
        grain,
        period_start,
        -- the last observation before the period: the end of the latest earlier bucket
        last_value(followers_last ignore nulls) over (
            partition by account_id, grain
            order by period_start
            rows between unbounded preceding and 1 preceding
        ) as followers_start,
        followers_last as followers_end,
    from period_followers

),

-- a period from its posts (after an incremental load: a recomputed month; its year below)
posts_by_bucket as (

    select
        posts.account_id,
        grains.grain,
        cast(date_trunc(grains.grain, posts.published_on) as date) as period_start,
        count(*) as posts,
        count(*) filter (where posts.is_video) as video_posts,
        count(*) filter (where posts.is_live) as live_posts,
        count(*) filter (where posts.is_live is null) as posts_live_unknown,
        -- NULL when no post of the period carries an engagement figure
        sum(posts.engagement) as engagement,
    from posts
    cross join grains
    {%- if is_incremental() %}
    semi join periods
        on periods.account_id = posts.account_id
        and periods.grain = grains.grain
        and periods.period_start = cast(date_trunc(grains.grain, posts.published_on) as date)
    where grains.grain = 'month'
    {%- endif %}
    group by all

),

posts_in_period as (

    select * from posts_by_bucket
    {%- if is_incremental() %}

    union all

    -- a year from its months: the stored months' counts and the new
    select
        account_id,
        'year' as grain,
        cast(date_trunc('year', period_start) as date) as period_start,
        cast(sum(posts) as bigint) as posts,
        cast(sum(video_posts) as bigint) as video_posts,
        cast(sum(live_posts) as bigint) as live_posts,
        cast(sum(posts_live_unknown) as bigint) as posts_live_unknown,
        sum(engagement) as engagement,
    from (
        select account_id, period_start, posts, video_posts, live_posts, posts_live_unknown,
            engagement,
        from posts_by_bucket
        union all
        select account_id, period_start, period_posts, period_video_posts, period_live_posts,
            period_posts_live_unknown, period_engagement,
        from stored_months
    )
    group by all
    having sum(posts) is not null
    {%- endif %}

),

-- Extract runs of the period: a period whose runs all failed to read the posts, and with no
-- post published in it, has no post tracking (its post counts are unknown, not 0).
runs_in_period as (

    select
        post_reads.account_id,
        grains.grain,
        cast(date_trunc(grains.grain, post_reads.run_date) as date) as period_start,
        bool_or(post_reads.read_posts) as posts_read,
    from post_reads
    cross join grains
    group by all

),

post_days as (

    select
        account_id,
        published_on,
        cast(date_trunc('month', published_on) as date) as published_month,
        count(*) as day_posts,
    from posts
    group by all

),

-- the 30 days up to the evaluation day E (E-29 .. E, both included) lie in at most two months
last_30_day_months as (

    select
        account_id,
        grain,
        period_start,
        evaluation_day,
        unnest(list_distinct([
            cast(date_trunc('month', evaluation_day - 29) as date),
            cast(date_trunc('month', evaluation_day) as date),
        ])) as published_month,
    from periods

),

posts_in_last_30_days as (

    select
        last_30_day_months.account_id,
        last_30_day_months.grain,
        last_30_day_months.period_start,
        cast(sum(post_days.day_posts) as bigint) as posts_last_30_days,
    from last_30_day_months
    inner join post_days
        on last_30_day_months.account_id = post_days.account_id
        and last_30_day_months.published_month = post_days.published_month
        and post_days.published_on
            between last_30_day_months.evaluation_day - 29 and last_30_day_months.evaluation_day
    group by all

),

-- the latest post event of each UTC day: the last one by the end of day E is the latest
-- event of the last such day on or before E
post_event_days as (

    select
        account_id,
        cast(posted_at at time zone 'UTC' as date) as posted_on,
        max(posted_at) as posted_at,
    from post_events
    group by all

),

last_posts as (

    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        post_event_days.posted_at as last_post_at,
    from periods
    asof left join post_event_days
        on periods.account_id = post_event_days.account_id
        and periods.evaluation_day >= post_event_days.posted_on

),

joined as (

    select
        periods.account_id,
        periods.agency_id,
        periods.platform,
        periods.handle,
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.evaluation_day,
        followers_at_bounds.followers_start,
        followers_at_bounds.followers_end,
        post_tracking.account_id is not null
        and (
            coalesce(runs_in_period.posts_read, true)
            or coalesce(posts_in_period.posts, 0) > 0
        ) as has_post_tracking,
        -- what the platform gives for this account at all (int_account_post_facts)
        coalesce(post_facts.gives_engagement, true) as gives_engagement,
        coalesce(post_facts.gives_live, true) as gives_live,
        post_tracking.account_id is not null as is_tracked,
        posts_in_period.posts,
        posts_in_period.video_posts,
        posts_in_period.live_posts,
        posts_in_period.posts_live_unknown,
        posts_in_period.engagement,
        -- the period's posts as published, whatever the tracking: a year adds its months'
        posts_in_period.posts as period_posts,
        posts_in_period.video_posts as period_video_posts,
        posts_in_period.live_posts as period_live_posts,
        posts_in_period.posts_live_unknown as period_posts_live_unknown,
        posts_in_period.engagement as period_engagement,
        coalesce(posts_in_last_30_days.posts_last_30_days, 0) as posts_last_30_days,
        last_posts.last_post_at,
    from periods
    left join followers_at_bounds using (account_id, grain, period_start)
    left join posts_in_period using (account_id, grain, period_start)
    left join posts_in_last_30_days using (account_id, grain, period_start)
    left join last_posts using (account_id, grain, period_start)
    left join runs_in_period using (account_id, grain, period_start)
    left join post_tracking on periods.account_id = post_tracking.account_id
    left join post_facts on periods.account_id = post_facts.account_id

),

measured as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        grain,
        period_start,
        period_end,
        evaluation_day,
        followers_start,
        followers_end,
        followers_end - followers_start as followers_change,
        case
            when followers_start <> 0
                -- in DOUBLE: 100 x a BIGINT change overflows INT64 for counts near 10^17
                then 100 * cast(followers_end - followers_start as double) / followers_start
        end as followers_growth_pct,
        case
            when followers_start <> 0 then followers_end / followers_start
        end as followers_growth_ratio,
        case when has_post_tracking then coalesce(posts, 0) end as posts,
        case when has_post_tracking then coalesce(video_posts, 0) end as video_posts,
        case
            when not has_post_tracking then null
            when posts > 0 then case when posts_live_unknown = 0 then live_posts end
            when gives_live then 0
        end as live_posts,
        case
            when not has_post_tracking then null
            when posts > 0 then cast(engagement as bigint)
            when gives_engagement then cast(0 as bigint)
        end as engagement,
        last_post_at,
        cast(
            evaluation_day - cast(last_post_at at time zone 'UTC' as date) as integer
        ) as days_since_last_post,
        posts_last_30_days,
        has_post_tracking,
        gives_engagement,
        gives_live,
        is_tracked,
        period_posts,
        period_video_posts,
        period_live_posts,
        period_posts_live_unknown,
        period_engagement,
    from joined

),

final as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        grain,
        period_start,
        period_end,
        evaluation_day,
        followers_start,
        followers_end,
        followers_change,
        cast(followers_growth_pct as double) as followers_growth_pct,
        cast(followers_growth_ratio as double) as followers_growth_ratio,
        posts,
        video_posts,
        live_posts,
        engagement,
        case when posts > 0 then engagement / posts end as engagement_per_post,
        case
            when posts > 0 and followers_end <> 0
                then 100 * (engagement / posts) / followers_end
        end as engagement_rate_pct,
        last_post_at,
        days_since_last_post,
        case
            when posts_last_30_days >= 4 then 'active'
            when days_since_last_post <= 90 then 'low'
            when days_since_last_post <= 365 then 'stale'
            when days_since_last_post > 365 then 'dormant'
            -- tracked, and no post at or before the evaluation day: it never posted
            when has_post_tracking then 'dormant'
            else 'unknown'
        end as activity_status,
        posts_last_30_days,
        has_post_tracking,
        -- account-wide facts the period was built with (quality.build_scope compares them)
        gives_engagement,
        gives_live,
        is_tracked,
        -- what a year takes from its stored months in an incremental build
        cast(period_posts as bigint) as period_posts,
        cast(period_video_posts as bigint) as period_video_posts,
        cast(period_live_posts as bigint) as period_live_posts,
        cast(period_posts_live_unknown as bigint) as period_posts_live_unknown,
        cast(period_engagement as hugeint) as period_engagement,
    from measured

)

select * from final
