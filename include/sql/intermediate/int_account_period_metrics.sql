-- Followers, posts, engagement and activity of every account period (contract section 6).
create or replace table core.int_account_period_metrics as

with

periods as (

    select * from core.int_account_periods

),

daily_followers as (

    select * from core.int_account_daily_followers

),

posts as (

    select * from core.int_account_posts

),

post_events as (

    select * from core.int_account_post_events

),

post_tracking as (

    select * from core.int_account_post_tracking

),

followers_at_bounds as (

    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        before_start.followers as followers_start,
        -- the last observation before the next period starts is the end only if inside P
        case
            when last_by_end.observed_on >= periods.period_start then last_by_end.followers
        end as followers_end,
    from periods
    asof left join daily_followers as before_start
        on periods.account_id = before_start.account_id
        and periods.period_start > before_start.observed_on
    asof left join daily_followers as last_by_end
        on periods.account_id = last_by_end.account_id
        and periods.period_end >= last_by_end.observed_on

),

posts_in_period as (

    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        count(*) as posts,
        count(*) filter (where posts.is_video) as video_posts,
        count(*) filter (where posts.is_live) as live_posts,
        sum(posts.engagement) as engagement,
    from periods
    inner join posts
        on periods.account_id = posts.account_id
        and posts.published_on between periods.period_start and periods.period_end
    group by all

),

posts_in_last_30_days as (

    -- the 30 days up to the evaluation day E: E-29 .. E, both included
    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        count(*) as posts_last_30_days,
    from periods
    inner join posts
        on periods.account_id = posts.account_id
        and posts.published_on between periods.evaluation_day - 29 and periods.evaluation_day
    group by all

),

last_posts as (

    select
        periods.account_id,
        periods.grain,
        periods.period_start,
        post_events.posted_at as last_post_at,
    from periods
    asof left join post_events
        on periods.account_id = post_events.account_id
        -- posted at or before the end of the evaluation day (UTC)
        and cast(periods.evaluation_day + 1 as timestamp) at time zone 'UTC'
            > post_events.posted_at

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
        post_tracking.account_id is not null as has_post_tracking,
        posts_in_period.posts,
        posts_in_period.video_posts,
        posts_in_period.live_posts,
        posts_in_period.engagement,
        coalesce(posts_in_last_30_days.posts_last_30_days, 0) as posts_last_30_days,
        last_posts.last_post_at,
    from periods
    left join followers_at_bounds using (account_id, grain, period_start)
    left join posts_in_period using (account_id, grain, period_start)
    left join posts_in_last_30_days using (account_id, grain, period_start)
    left join last_posts using (account_id, grain, period_start)
    left join post_tracking on periods.account_id = post_tracking.account_id

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
                then 100 * (followers_end - followers_start) / followers_start
        end as followers_growth_pct,
        case
            when followers_start <> 0 then followers_end / followers_start
        end as followers_growth_ratio,
        case when has_post_tracking then coalesce(posts, 0) end as posts,
        case when has_post_tracking then coalesce(video_posts, 0) end as video_posts,
        case when has_post_tracking then coalesce(live_posts, 0) end as live_posts,
        case when has_post_tracking then cast(coalesce(engagement, 0) as bigint) end
            as engagement,
        last_post_at,
        cast(
            evaluation_day - cast(last_post_at at time zone 'UTC' as date) as integer
        ) as days_since_last_post,
        posts_last_30_days,
        has_post_tracking,
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
    from measured

)

select * from final
