"""Instagram business discovery in the sandbox."""

from __future__ import annotations

GRAPH = "/graph.facebook.com/v24.0"
OWN = "17841400000000000"
AUTH = {"Authorization": "Bearer sandbox-token"}
MEDIA = "id,timestamp,like_count,comments_count,media_type,media_product_type,permalink"


def discover(http, sb, username, media="media.limit(50)"):
    fields = f"business_discovery.username({username}){{followers_count,media_count,{media}{{{MEDIA}}}}}"
    return http.get(sb.url + GRAPH + f"/{OWN}", params={"fields": fields}, headers=AUTH, timeout=10)


def test_business_discovery_pages_media_with_after_cursors(http, fresh_sandbox):
    first = discover(http, fresh_sandbox, "taxes.gov.az").json()
    assert first["id"] == OWN
    found = first["business_discovery"]
    assert found["followers_count"] > 0 and found["media_count"] > 50
    seen = [m["id"] for m in found["media"]["data"]]
    cursor = found["media"]["paging"]["cursors"]["after"]
    for _ in range(3):
        page = discover(http, fresh_sandbox, "taxes.gov.az", f"media.limit(50).after({cursor})").json()
        media = page["business_discovery"]["media"]
        seen += [m["id"] for m in media["data"]]
        cursor = media["paging"]["cursors"].get("after")
    assert len(seen) == len(set(seen)) == 200
    stamps = [m["timestamp"] for m in found["media"]["data"]]
    assert stamps == sorted(stamps, reverse=True)


def test_last_media_page_has_no_after_cursor(http, fresh_sandbox):
    total = discover(http, fresh_sandbox, "taxes.gov.az").json()["business_discovery"]["media_count"]
    pages, cursor, count = 0, None, 0
    while True:
        media = discover(http, fresh_sandbox, "taxes.gov.az",
                         "media.limit(100)" + (f".after({cursor})" if cursor else "")).json()
        block = media["business_discovery"]["media"]
        count += len(block["data"])
        pages += 1
        cursor = block["paging"]["cursors"].get("after")
        if cursor is None:
            break
    assert count == total and pages == -(-total // 100)


def test_media_types_follow_the_graph_vocabulary(http, fresh_sandbox):
    media = discover(http, fresh_sandbox, "taxes.gov.az", "media.limit(100)").json()["business_discovery"]["media"]["data"]
    assert {m["media_type"] for m in media} <= {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}
    assert all(m["media_product_type"] == "REELS" for m in media if m["media_type"] == "VIDEO")
    assert all(m["permalink"].startswith("https://www.instagram.com/") for m in media)


def test_unknown_or_deleted_username_is_cannot_find_user(http, fresh_sandbox):
    error = discover(http, fresh_sandbox, "no.such.account").json()["error"]
    assert (error["code"], error["error_subcode"]) == (110, 2207013)
    fresh_sandbox.set(faults={"instagram": {"deleted_account": ["taxes.gov.az"]}})
    assert discover(http, fresh_sandbox, "taxes.gov.az").json()["error"]["error_subcode"] == 2207013
    fresh_sandbox.set(faults={"instagram": {"private": ["taxes.gov.az"]}})
    assert discover(http, fresh_sandbox, "taxes.gov.az").json()["error"]["code"] == 10


def test_instagram_calls_are_counted_apart_from_facebook(http, fresh_sandbox):
    discover(http, fresh_sandbox, "taxes.gov.az")
    stats = fresh_sandbox.stats()["platforms"]
    assert stats["instagram"]["endpoints"] == {"business_discovery": 1}
    assert stats["facebook"]["total"] == 0


def test_instagram_throttle_is_a_graph_error(http, fresh_sandbox):
    fresh_sandbox.set(faults={"instagram": {"throttle": 1.0}})
    response = discover(http, fresh_sandbox, "taxes.gov.az")
    assert response.status_code in (400, 403) and response.json()["error"]["code"] in (4, 17, 32, 613)
