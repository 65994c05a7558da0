-- Agencies per period from their account rows. Change and growth use only comparable
-- accounts (a start and an end figure), so a new page is never reported as a loss.
-- Incremental: every agency's periods ending on or after the earliest day any account
-- recomputes (quality.build_scope) are computed again (ranks compare all agencies).
-- depends_on: {{ ref('build_scope') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_agency_periods_to_recompute() }}",
) }}
with

account_periods as (

    select * from {{ ref('int_account_period_metrics') }}
    {%- if is_incremental() %}
    where period_end >= (select min(from_day) from {{ ref('build_scope') }})
    {%- endif %}

),

agencies as (

    select * from {{ ref('stg_registry__agencies') }}

),

activity_levels as (

    select *
    from (
        values
            ('active', 5),
            ('low', 4),
            ('stale', 3),
            ('dormant', 2),
            ('unknown', 1)
    ) as activity_levels (activity_status, activity_level)

),

aggregated as (

    select
        account_periods.agency_id,
        account_periods.grain,
        account_periods.period_start,
        list_sort(list_distinct(list(account_periods.platform))) as platforms,
        count(distinct account_periods.platform) as platform_count,
        count(*) as accounts,
        cast(sum(account_periods.followers_end) as bigint) as followers_end,
        cast(sum(account_periods.followers_change) as bigint) as followers_change,
        cast(
            sum(account_periods.followers_start)
                filter (where account_periods.followers_change is not null)
            as bigint
        ) as comparable_followers_start,
        cast(sum(account_periods.posts) as bigint) as posts,
        cast(sum(account_periods.engagement) as bigint) as engagement,
        max(activity_levels.activity_level) as activity_level,
    from account_periods
    left join activity_levels
        on account_periods.activity_status = activity_levels.activity_status
    group by all

),

measured as (

    select
        aggregated.*,
        case
            when comparable_followers_start <> 0
                then 100 * cast(followers_change as double) / comparable_followers_start
        end as followers_growth_pct,
    from aggregated

),

ranked as (

    select
        measured.*,
        case
            when followers_end is not null
                then rank() over (
                    partition by grain, period_start
                    order by followers_end desc nulls last
                )
        end as rank_followers,
        case
            when followers_growth_pct is not null
                then rank() over (
                    partition by grain, period_start
                    order by followers_growth_pct desc nulls last
                )
        end as rank_growth,
    from measured

),

final as (

    select
        ranked.agency_id,
        agencies.agency_name,
        agencies.agency_name_en,
        -- [] when none, also for an agency the registry no longer lists
        coalesce(agencies.successor_of, []::varchar[]) as successor_of,
        ranked.grain,
        ranked.period_start,
        ranked.platforms,
        ranked.platform_count,
        ranked.accounts,
        ranked.followers_end,
        ranked.followers_change,
        cast(ranked.followers_growth_pct as double) as followers_growth_pct,
        ranked.posts,
        ranked.engagement,
        activity_levels.activity_status,
        ranked.rank_followers,
        ranked.rank_growth,
        ranked.comparable_followers_start,
    from ranked
    left join agencies
        on ranked.agency_id = agencies.agency_id
    left join activity_levels
        on ranked.activity_level = activity_levels.activity_level

)

select * from final
