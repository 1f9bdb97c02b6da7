"""A real HTTP server on 127.0.0.1 serving feeds that behave well and badly."""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.config import IngestSettings, Settings
from core.services import Services

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Test wire</title><link>http://example.test/</link><description>t</description>
{items}
</channel></rss>"""

RSS_ITEM = """<item>
  <title>{title}</title>
  <link>{link}</link>
  <description>{description}</description>
  <pubDate>{date}</pubDate>
  <guid>{link}</guid>
  {extra}
</item>"""

GOOD_ITEMS = [
    {
        "title": "Apple &amp; Microsoft rally on &lt;b&gt;AI&lt;/b&gt; hopes",
        "link": "HTTPS://News.Example.COM:443/markets/apple-rally/?utm_source=rss&amp;b=2&amp;a=1#top",
        "description": "&lt;p&gt;Shares of &lt;b&gt;Apple&lt;/b&gt; rose&amp;nbsp;3%.&lt;/p&gt;",
        "date": "Mon, 23 Nov 2026 09:30:00 -0500",
        "extra": "<category>NASDAQ:AAPL</category><category>Technology</category>",
    },
    {
        "title": "Exxon slides as crude falls",
        "link": "https://news.example.com/energy/exxon",
        "description": "Oil fell 4%.",
        "date": "Mon, 23 Nov 2026 15:00:00 GMT",
        "extra": "",
    },
    {
        "title": "JPMorgan beats estimates",
        "link": "https://news.example.com/banks/jpm",
        "description": "",
        "date": "Mon, 23 Nov 2026 16:00:00 GMT",
        "extra": "",
    },
]

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom wire</title><id>urn:test:atom</id><updated>2026-11-23T12:00:00Z</updated>
  <entry>
    <title type="html">Nvidia unveils new chip</title>
    <link href="https://atom.example.com/nvda/chip"/>
    <id>urn:test:1</id>
    <updated>2026-11-23T12:00:00+02:00</updated>
    <summary type="html">&lt;div&gt;Faster &amp;amp; cheaper&lt;/div&gt;</summary>
  </entry>
  <entry>
    <title>Tesla recalls vehicles</title>
    <link href="/tsla/recall"/>
    <id>urn:test:2</id>
    <updated>2026-11-23T13:00:00Z</updated>
  </entry>
</feed>"""


def rss(items: list[dict[str, str]]) -> bytes:
    return RSS.format(items="\n".join(RSS_ITEM.format(**item) for item in items)).encode()


def numbered_item(n: int) -> dict[str, str]:
    return {
        "title": f"Story number {n} about Walmart",
        "link": f"https://repeat.example.com/story/{n}",
        "description": f"Body {n}",
        "date": f"Mon, 23 Nov 2026 10:{n:02d}:00 GMT",
        "extra": "",
    }


ETAG = '"v1"'
LAST_MODIFIED = "Mon, 23 Nov 2026 17:00:00 GMT"
HUGE = 10 * 1024 * 1024


@dataclass
class FeedServer:
    base_url: str
    stop: threading.Event
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    repeat_polls: int = 0
    # set: /repeat.xml stops sliding and serves its current window again
    repeat_frozen: bool = False
    # what /fuzz.xml serves (the feed-level fuzz sets it per example)
    fuzz_body: bytes = b""

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


def _make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None  # keep test output clean

        def _send(self, status: int, body: bytes, content_type: str = "application/rss+xml",
                  headers: dict[str, str] | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path
            server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            try:
                self._route(path)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on purpose (size cap, timeout)

        def _route(self, path: str) -> None:
            if path == "/good.xml":
                if self.headers.get("If-None-Match") == ETAG:
                    self.send_response(304)
                    self.send_header("ETag", ETAG)
                    self.end_headers()
                    return
                self._send(200, rss(GOOD_ITEMS), headers={"ETag": ETAG})
            elif path == "/lastmod.xml":
                if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                    self.send_response(304)
                    self.end_headers()
                    return
                self._send(200, rss(GOOD_ITEMS[1:]), headers={"Last-Modified": LAST_MODIFIED})
            elif path == "/atom.xml":
                self._send(200, ATOM.encode(), content_type="application/atom+xml")
            elif path == "/repeat.xml":
                # each poll shows a sliding window of three items: 1-3, then 2-4, 3-5...
                if not server.repeat_frozen or server.repeat_polls == 0:
                    server.repeat_polls += 1
                first = server.repeat_polls
                self._send(200, rss([numbered_item(n) for n in range(first, first + 3)]))
            elif path == "/malformed.xml":
                self._send(200, b"<rss><channel><item><title>Broken <<<>>> & </rss", "text/xml")
            elif path == "/partly-broken.xml":
                body = (
                    b"<rss version='2.0'><channel><item><title>Good one</title>"
                    b"<link>https://partly.example.com/good</link></item>"
                    b"<item><title>Broken & </rss"
                )
                self._send(200, body, "text/xml")
            elif path == "/html":
                self._send(200, b"<html><body><p>Not a feed</p></body></html>", "text/html")
            elif path == "/error500":
                self._send(500, b"boom", "text/plain")
            elif path == "/busy":
                self._send(503, b"busy", "text/plain", headers={"Retry-After": "120"})
            elif path == "/hang":
                # bounded: ends when the test session's server stops (or after 10 s)
                server.stop.wait(10)
            elif path == "/trickle":
                # a byte every 50 ms: never idle long enough for a read timeout
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                while not server.stop.wait(0.05):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            elif path == "/gzip.xml":
                body = gzip.compress(ATOM.encode())
                self._send(200, body, "application/atom+xml", {"Content-Encoding": "gzip"})
            elif path == "/gzip-bomb.xml":
                # 10 MB of XML comment that compresses to ~10 KB
                bomb = gzip.compress(b"<!--" + b" " * HUGE + b"-->")
                self._send(200, bomb, "application/rss+xml", {"Content-Encoding": "gzip"})
            elif path == "/brotli.xml":
                self._send(200, b"??", "application/rss+xml", {"Content-Encoding": "br"})
            elif path == "/corrupt-gzip.xml":
                self._send(
                    200, b"\x1f\x8bnot gzip", "application/rss+xml", {"Content-Encoding": "gzip"}
                )
            elif path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(HUGE))
                self.end_headers()
                self._stream(HUGE)
            elif path == "/huge-unannounced":
                # HTTP/1.0 without Content-Length: the body ends when the connection closes
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                self._stream(HUGE)
            elif path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path.startswith("/redirect-to/"):
                # /redirect-to/<host>[:port]/<path>: a hop to anywhere, e.g. a metadata address
                target = path.removeprefix("/redirect-to/").replace(
                    "PORT", str(self.server.server_address[1])
                )
                self.send_response(302)
                self.send_header("Location", f"http://{target}")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/many-tags.xml":
                tags = "".join(f"<category>NASDAQ:T{i:05d}</category>" for i in range(15_000))
                item = dict(GOOD_ITEMS[1], extra=tags)
                self._send(200, rss([item]))
            elif path == "/fuzz.xml":
                self._send(200, server.fuzz_body)
            elif path == "/redirect-once":
                self.send_response(301)
                self.send_header("Location", "/atom.xml")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path.startswith("/real/"):
                # a real feed as saved, with no charset: the body must speak for itself
                from models import data  # read at request time: the data dir can be moved

                file = data.DEFAULT_DATA_DIR / "real_feeds" / path.removeprefix("/real/")
                self._send(200, file.read_bytes(), "application/rss+xml")
            else:
                self._send(404, b"not found", "text/plain")

        def _stream(self, total: int) -> None:
            chunk = b"<!-- padding -->" * 4096
            sent = 0
            while sent < total and not server.stop.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)

    return Handler


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    stop = threading.Event()
    state = FeedServer(base_url="", stop=stop)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def ingest_settings() -> IngestSettings:
    """Small bounds so the bad feeds fail fast; a deadline that a loaded machine still meets."""
    return IngestSettings(
        request_timeout_s=2, max_body_bytes=200_000, max_redirects=3, default_interval_s=60
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Broker only, overriding the shared fixture for this folder.

    The shared ``kafka_bootstrap`` comes with the ``services`` fixture, which also starts
    PostgreSQL; these tests need no database (and initdb failed there as root when this
    was written). Delete this override to go back to the shared one.
    """
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ingest-broker"),
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
    )
    with Services(settings, database=False) as services:
        assert services.kafka is not None
        yield services.kafka.bootstrap_servers
