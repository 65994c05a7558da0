{#
    The marts' two grains from one definition: a period's key column is `month` (the
    month's first day) or `year` (an integer), the rest is the same for both grains.
#}
{% macro period_key(grain) -%}
    {%- if grain == 'month' -%}
        period_start as month
    {%- else -%}
        cast(year(period_start) as integer) as year
    {%- endif -%}
{%- endmacro %}

{# One row per account and period of `grain` ('month' or 'year') with any observation or post. #}
{% macro account_period_mart(grain) %}
with

account_periods as (

    select * from {{ ref('int_account_period_metrics') }}
    where grain = '{{ grain }}'

),

final as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        {{ period_key(grain) }},
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
order by account_id, {{ grain }}
{% endmacro %}

{# One row per agency and period of `grain` ('month' or 'year') with any account row. #}
{% macro agency_period_mart(grain) %}
with

agency_periods as (

    select * from {{ ref('int_agency_period_metrics') }}
    where grain = '{{ grain }}'

),

final as (

    select
        agency_id,
        agency_name,
        agency_name_en,
        successor_of,
        {{ period_key(grain) }},
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
order by {{ grain }}, agency_id
{% endmacro %}
