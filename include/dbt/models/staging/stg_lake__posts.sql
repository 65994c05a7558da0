-- Posts as last fetched, with their UTC publication day.
with

source as (

    select * from {{ source('lake', 'lake_posts') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    select
        coalesce(identities.account_id, source.account_id) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    -- one row per post; a Telegram post id is "channel/number" and carries the
    -- handle of its day: after a handle change the same message is one post
    qualify row_number() over (
        partition by
            coalesce(identities.account_id, source.account_id),
            source.platform,
            case
                when source.platform = 'telegram'
                    then coalesce(nullif(regexp_extract(source.post_id, '/(\d+)$', 1), ''),
                                  source.post_id)
                else source.post_id
            end
        order by source.fetched_on desc nulls last, source.fetched_at desc nulls last
    ) = 1

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
