-- Posts seen before and no longer returned by the platform.
with

source as (

    select * from {{ source('lake', 'lake_post_deletions') }}

),

renamed as (

    select
        account_id,
        platform,
        post_id,
        last_seen_on,
        detected_on as deletion_detected_on,

    from source

)

select * from renamed
