-- One row per account and calendar year (UTC) with any observation or post.
-- Columns and definitions: docs/REFERENCE.md, Warehouse.
with

account_periods as (

    select * from {{ ref('int_account_period_metrics') }}
    where grain = 'year'

),

final as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        cast(year(period_start) as integer) as year,
        followers_start,
        followers_end,
        followers_change,
        followers_growth_pct,
        followers_growth_ratio,
        posts,
        video_posts,
        live_posts,
        engagement,
        engagement_per_post,
        engagement_rate_pct,
        last_post_at,
        days_since_last_post,
        activity_status,
    from account_periods

)

select * from final
order by account_id, year
