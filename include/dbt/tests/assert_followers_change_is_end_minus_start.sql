-- Contract (docs/REFERENCE.md, Account marts): followers_change is end − start, NULL when
-- either is NULL, and a start of 0 gives followers_end; growth is NULL when start is 0.
-- Rows returned break the rule.
{% for mart in ['account_monthly', 'account_annual'] %}
select '{{ mart }}' as mart, account_id, followers_start, followers_end, followers_change
from {{ ref(mart) }}
where followers_change is distinct from followers_end - followers_start
    or (followers_start = 0 and followers_growth_pct is not null)
{% if not loop.last %}union all{% endif %}
{% endfor %}
