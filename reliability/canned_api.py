"""A loopback HTTP server answering canned X API v2 bodies (the bad-input corpus).

Routes are looked up by path, plus ``?pagination_token=T`` when the request pages; an answer
is ``{"status", "json"}``, ``{"status", "text", "content_type"}`` or ``{"status", "tweets": N}``
(N generated posts in one page).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GOOD_USER = {"id": "111", "username": "good_one", "name": "Good",
             "public_metrics": {"followers_count": 1000, "following_count": 3,
                                "tweet_count": 2, "listed_count": 0}}
BAD_USER = {"id": "222", "username": "bad_one", "name": "Bad",
            "public_metrics": {"followers_count": 2000, "following_count": 3,
                               "tweet_count": 2, "listed_count": 0}}


def _tweet(tweet_id: str, day: str = "2026-11-01") -> dict:
    return {"id": tweet_id, "created_at": f"{day}T10:00:00.000Z",
            "public_metrics": {"like_count": 4, "reply_count": 1, "retweet_count": 2,
                               "quote_count": 0, "impression_count": 90}}


DEFAULT_ROUTES = {
    "/2/users/by": {"status": 200, "json": {"data": [GOOD_USER, BAD_USER]}},
    "/2/users/111/tweets": {"status": 200, "json": {"data": [_tweet("1001")],
                                                    "meta": {"result_count": 1}}},
    "/2/users/222/tweets": {"status": 200, "json": {"data": [_tweet("2001")],
                                                    "meta": {"result_count": 1}}},
}


def generated_page(count: int) -> bytes:
    """One timeline page of ``count`` posts, ids descending, no next_token."""
    tweets = [_tweet(str(10_000_000 + count - i), "2026-10-15") for i in range(count)]
    return json.dumps({"data": tweets, "meta": {"result_count": count}}).encode()


class CannedApi:
    """``with CannedApi() as api: api.routes = {...}; api.url``."""

    def __init__(self):
        self.routes: dict[str, dict] = dict(DEFAULT_ROUTES)
        self.requests: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                split = urlsplit(self.path)
                token = parse_qs(split.query).get("pagination_token", [None])[0]
                key = split.path + (f"?pagination_token={token}" if token else "")
                api.requests.append(key)
                answer = api.routes.get(key)
                if answer is None:
                    status, body, kind = 404, b'{"title": "Not Found"}', "application/json"
                elif "tweets" in answer:
                    status, body, kind = answer["status"], generated_page(answer["tweets"]), \
                        "application/json"
                elif "json" in answer:
                    status, body, kind = answer["status"], json.dumps(answer["json"]).encode(), \
                        "application/json"
                else:
                    status, body = answer["status"], answer["text"].encode()
                    kind = answer.get("content_type", "text/plain")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet: the corpus asserts on outcomes, not on request lines

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def use(self, overrides: dict[str, dict]) -> None:
        """Serve the defaults with ``overrides`` on top (one corpus case)."""
        self.routes = {**DEFAULT_ROUTES, **overrides}
        self.requests = []

    def __enter__(self) -> CannedApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
