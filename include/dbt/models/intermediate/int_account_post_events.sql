-- Every known moment an account posted: its posts, and the last_post_on of manual
-- observations (as midnight UTC of that day). A view: the full build's last posts read it.
{{ config(materialized='view') }}
with

posts as (

    select * from {{ ref('int_account_posts') }}

),

observations as (

    select * from {{ ref('stg_lake__observations') }}

),

events as (

    select
        account_id,
        published_at as posted_at,
        'post' as source,
    from posts

    union all

    select
        account_id,
        cast(last_post_on as timestamp) at time zone 'UTC' as posted_at,
        'manual' as source,
    from observations
    where last_post_on is not null
        and account_id is not null

),

final as (

    select * from events

)

select * from final
