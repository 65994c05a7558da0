-- One row per agency and calendar month (UTC) with any account row.
-- Columns and definitions: docs/REFERENCE.md, Warehouse.
with

agency_periods as (

    select * from {{ ref('int_agency_period_metrics') }}
    where grain = 'month'

),

final as (

    select
        agency_id,
        agency_name,
        agency_name_en,
        successor_of,
        period_start as month,
        platforms,
        platform_count,
        accounts,
        followers_end,
        followers_change,
        followers_growth_pct,
        posts,
        engagement,
        activity_status,
        rank_followers,
        rank_growth,
    from agency_periods

)

select * from final
order by month, agency_id
