-- Accounts whose posts are tracked: any post in the lake, or an extract run that read the
-- account's posts (every platform's extractor fetches posts, so such a run with no post
-- means none were published). For other accounts post counts are unknown (NULL), not zero;
-- a run that could not read the posts (no public preview, no permission) is no evidence.
-- Incremental: evidence only grows; the accounts with new posts or extract runs are merged.
-- depends_on: {{ ref('stg_lake__account_identities') }}, {{ source('quality', 'build_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='account_id',
) }}
with

{% if is_incremental() %}
-- a post row changed (new, or a new version of a known post): the account has posts
posts as (

    select account_id from ({{ changed_rows(['posts']) }})

),

changed_days as (

    select distinct account_id, day from ({{ changed_rows(['extract_log']) }})

),

post_reads as (

    select post_reads.*
    from {{ ref('int_account_post_reads') }} as post_reads
    semi join changed_days
        on post_reads.account_id = changed_days.account_id
        and post_reads.run_date = changed_days.day

),

stored as (

    select account_id, unnest(tracked_by) as tracked_by, from {{ this }}
    where account_id in (select account_id from posts)
        or account_id in (select account_id from post_reads where read_posts)

),
{% else %}
posts as (

    select * from {{ ref('stg_lake__posts') }}

),

post_reads as (

    select * from {{ ref('int_account_post_reads') }}

),
{% endif %}

evidence as (

    select
        account_id,
        'posts' as tracked_by,
    from posts

    union all

    select
        account_id,
        'extract_log' as tracked_by,
    from post_reads
    where read_posts
    {%- if is_incremental() %}

    union all

    select account_id, tracked_by, from stored
    {%- endif %}

),

final as (

    select
        account_id,
        list_sort(list_distinct(list(tracked_by))) as tracked_by,
    from evidence
    where account_id is not null
    group by all

)

select * from final
