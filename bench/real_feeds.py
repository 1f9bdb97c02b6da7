"""The 29 real feeds in ../shared/data/real_feeds through the product's parser and the
publisher's repeat memory: items read, ids produced, repeats skipped (each listed, to
check by eye), and a seeded sample of titles with the tagger's tickers to judge by hand.

    PYTHONPATH=. .venv/bin/python bench/real_feeds.py [--data DIR] [--sample 60]
"""

from __future__ import annotations

import argparse
import logging
import random
from datetime import UTC, datetime
from pathlib import Path

from models.data import DEFAULT_DATA_DIR
from stream.ingest.dedup import RecentIds
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import FeedError, parse_feed
from stream.tagging import default_tagger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR / "real_feeds")
    parser.add_argument("--sample", type=int, default=60)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    seen = RecentIds(100_000)
    first = {}
    items = unusable = failed = 0
    articles = []
    for path in sorted(args.data.glob("*.xml")):
        feed = FeedConfig(name=path.stem, url=f"https://feeds.example.com/{path.stem}")
        try:
            got, bad = parse_feed(path.read_bytes(), feed, fetched_at=datetime.now(UTC))
        except FeedError:
            failed += 1
            continue
        items += len(got) + bad
        unusable += bad
        for article in got:
            articles.append(article)
            if seen.add(article.id):
                first[article.id] = article
            else:
                other = first[article.id]
                print(
                    f"repeat: {article.source} {article.title!r} = {other.source} {other.title!r}"
                )
    print(f"feeds unreadable: {failed}; items read: {items}; unusable: {unusable}")
    skipped = len(articles) - len(first)
    print(f"articles: {len(articles)}; ids: {len(first)}; repeats skipped: {skipped}")
    tagger = default_tagger()
    titles = sorted({a.title for a in articles if a.language == "en"})
    for title in random.Random(16).sample(titles, min(args.sample, len(titles))):
        print(f"{','.join(m.ticker for m in tagger.find(title)) or '-':<14} {title}")


if __name__ == "__main__":
    main()
