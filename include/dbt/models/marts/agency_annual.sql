-- One row per agency and calendar year (UTC) with any account row.
-- Columns and definitions: docs/REFERENCE.md, Warehouse.
with

agency_periods as (

    select * from {{ ref('int_agency_period_metrics') }}
    where grain = 'year'

),

final as (

    select
        agency_id,
        agency_name,
        agency_name_en,
        successor_of,
        cast(year(period_start) as integer) as year,
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
order by year, agency_id
