-- Manual observations (docs/REFERENCE.md, Manual observations CSV), the latest import of an account and day.
with

source as (

    select * from {{ source('lake', 'lake_observations') }}

),

renamed as (

    select
        -- the importer always sets account_id; rebuild it the registry's way if missing
        coalesce(
            account_id,
            platform || ':' || lower(trim(ltrim(trim(handle), '@')))
        ) as account_id,
        agency_id,
        platform,
        handle,
        observed_on,
        followers,
        posts_total,
        last_post_on,
        note,
        source_file,
        file_sha256,
        row_number as source_row_number,
        imported_at,

    from source

)

select * from renamed
