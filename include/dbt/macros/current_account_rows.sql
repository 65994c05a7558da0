{#
    The rows of a lake source (CTE `source`) under the account each belongs to today
    (CTE `identities`: stg_lake__account_identities): a row landed under a former handle
    counts for the account under its current handle. With `key`, one row per account and
    key is kept, the first by `latest_first` (a day landed under the old handle and the new
    counts once). `account_id`: the expression of the row's own account id.

    The loader keeps one row per lake key already, so only the rows of accounts a handle
    change touches (a former handle's lake account and the account it now is), and those
    `always_merge` names (Telegram posts: a message's id carries the channel's handle), can
    hold two rows for one key: only they are ordered; the others pass as they are.
#}
{% macro current_account_rows(key=none, latest_first=none, account_id='source.account_id',
                              always_merge=none) %}
    {#- the rows of the lake's own accounts, one per key already, are not ordered -#}
    {%- set split = key and account_id == 'source.account_id' %}
    {%- if split %}
    {%- set involved -%}
        (
            source.account_id in (
                select lake_account_id from identities where lake_account_id is not null
            )
            or source.account_id in (
                select account_id from identities where account_id is not null
            )
            {%- if always_merge %}
            or ({{ always_merge }})
            {%- endif %}
        )
    {%- endset %}
    select source.*,
    from source
    where source.account_id is null or not {{ involved }}

    union all by name

    {% endif -%}
    select
        coalesce(identities.account_id, {{ account_id }}) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    {%- if split %}
    where source.account_id is not null and {{ involved }}
    {%- endif %}
    {%- if key %}
    qualify row_number() over (
        partition by coalesce(identities.account_id, {{ account_id }}), {{ key }}
        order by {{ latest_first }}
    ) = 1
    {%- endif %}
{% endmacro %}
