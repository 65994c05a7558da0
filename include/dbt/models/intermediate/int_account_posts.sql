-- Every known post once (latest fetch), with its engagement; deleted posts stay: they were
-- published, so they count for the period they were published in. A plain repost of
-- another account's post (an X retweet, post_type 'retweet') is no post of the account: it
-- carries the other post's metrics. A quote has its own text and metrics: it stays.
-- Incremental: the posts with new lake rows or deletions are recomputed (macros/increments.sql).
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'post_id'],
) }}
with

{% if is_incremental() %}
changed_keys as (

    select distinct
        platform,
        {{ post_key('platform', 'post_id') }} as post_key,
    from ({{ changed_rows(['posts', 'post_deletions']) }})

),

-- the earliest publication day among them (a deleted post's from its stored row)
{%- set first_published = day_literal(
    'select least((select min(day) from (' ~ changed_rows(['posts']) ~ ')), '
    ~ '(select min(stored.published_on) from ' ~ this ~ ' as stored semi join ('
    ~ 'select distinct platform, ' ~ post_key('platform', 'post_id') ~ ' as post_key from ('
    ~ changed_rows(['post_deletions']) ~ ')) as deleted_keys on stored.platform = '
    ~ 'deleted_keys.platform and ' ~ post_key('stored.platform', 'stored.post_id')
    ~ ' = deleted_keys.post_key))'
) %}

posts as (
    {%- set source_filter -%}
        published_at >= cast({{ first_published }} - 1 as timestamp) at time zone 'UTC'
        and (platform, {{ post_key('platform', 'post_id') }}) in (
            select (platform, post_key) from changed_keys
        )
    {%- endset %}
    {{ lake_posts(source_filter) }}

),
{% else %}
posts as (

    select * from {{ ref('stg_lake__posts') }}

),
{% endif %}

deletions as (

    select * from {{ ref('stg_lake__post_deletions') }}

),

-- one row per post already: the loader keeps one per (platform, post_id) and
-- stg_lake__posts one per account and message
latest_posts as (

    select *
    from posts
    where account_id is not null
        and published_at is not null

),

deleted_posts as (

    select
        platform,
        post_id,
        max(deletion_detected_on) as deletion_detected_on,
    from deletions
    group by all

),

final as (

    select
        latest_posts.account_id,
        latest_posts.platform,
        latest_posts.post_id,
        latest_posts.published_at,
        latest_posts.published_on,
        latest_posts.post_type,
        coalesce(latest_posts.is_video, false) as is_video,
        -- NULL: the extractor could not tell (live videos not readable), never a false zero
        latest_posts.is_live,
        latest_posts.reactions,
        latest_posts.comments,
        latest_posts.shares,
        -- NULL when the platform gives none of the three figures (Telegram without reactions)
        case
            when coalesce(latest_posts.reactions, latest_posts.comments, latest_posts.shares)
                is not null
                then coalesce(latest_posts.reactions, 0)
                + coalesce(latest_posts.comments, 0)
                + coalesce(latest_posts.shares, 0)
        end as engagement,
        deleted_posts.post_id is not null as is_deleted,
        deleted_posts.deletion_detected_on,
    from latest_posts
    left join deleted_posts
        on latest_posts.platform = deleted_posts.platform
        and latest_posts.post_id = deleted_posts.post_id
    where lower(coalesce(latest_posts.post_type, '')) not in ('retweet', 'retweeted')

)

select * from final
