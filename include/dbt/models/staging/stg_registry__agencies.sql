-- Agencies of the registry (docs/REFERENCE.md, Agency registry).
with

source as (

    select * from {{ source('registry', 'agencies') }}

),

renamed as (

    select
        agency_id,
        name as agency_name,
        name_en as agency_name_en,
        kind as agency_kind,
        jurisdiction,
        active_from as agency_active_from,
        active_to as agency_active_to,
        successor_of,

    from source

)

select * from renamed
