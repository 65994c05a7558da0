-- Posts as last fetched, with their UTC publication day.
with

source as (

    select * from {{ source('lake', 'lake_posts') }}

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

    from source

)

select * from renamed
