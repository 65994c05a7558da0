{#
    The posts of the lake as last fetched, with their UTC publication day: the model
    stg_lake__posts, and (with `source_filter`, a condition on the lake rows) the part of
    it an incremental build recomputes.
#}
{% macro lake_posts(source_filter=none) %}
{#- one post: a Telegram post id is "channel/number", the number alone is the message -#}
{%- set key -%}
source.platform, {{ post_key('source.platform', 'source.post_id') }}
{%- endset %}
with

source as (

    select * from {{ source('lake', 'lake_posts') }}
    {%- if source_filter %}
    where {{ source_filter }}
    {%- endif %}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    -- one row per post; a Telegram post id is "channel/number" and carries the
    -- handle of its day: after a handle change the same message is one post
    {{ current_account_rows(
        key=key,
        always_merge="source.platform = 'telegram'",
        latest_first='source.fetched_on desc nulls last, source.fetched_at desc nulls last',
    ) }}

),

renamed as (

    select
        account_id,
        agency_id,
        platform,
        post_id,
        published_at,
        cast(published_at at time zone 'UTC' as date) as published_on,
        post_type,
        is_video,
        is_live,
        permalink,
        reactions,
        comments,
        shares,
        views,
        views_rounding,
        fetched_on,
        fetched_at,

    from mapped as source

)

select * from renamed
{% endmacro %}
