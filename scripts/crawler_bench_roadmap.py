"""The roadmap's crawler, for scripts/bench-crawler: requests + BeautifulSoup + pandas.

Written the way the roadmap's first portfolio project writes one: sequential (one request
at a time, `requests.get`), parsed with BeautifulSoup's `select`, rows collected in a list
and saved with pandas at the end. It follows links on the start URL's host, each URL once.
With --rate, it sleeps so that requests start at most RATE per second. With --mongo URL,
each item is also upserted by URL into the database `--mongo-db` (collection `items`) as
it is found: the same storage work as the Rust crawler's, one round trip per item.

    python crawler_bench_roadmap.py START_URL OUT_CSV [--rate N] [--max-pages N]
        [--mongo URL --mongo-db NAME]

Prints one JSON line: pages fetched, items, elapsed seconds, pages per second.
"""

import argparse
import json
import time
from collections import deque
from urllib.parse import urljoin, urlparse

import pandas as pd
import requests
from bs4 import BeautifulSoup


def text(node, selector):
    found = node.select_one(selector)
    return found.get_text(" ", strip=True) if found else None


def crawl(start, rate=None, max_pages=None, items=None):
    host = urlparse(start).netloc
    seen = {start}
    queue = deque([start])
    rows = []
    pages = 0
    next_at = time.monotonic()
    while queue and (max_pages is None or pages < max_pages):
        url = queue.popleft()
        if rate:
            now = time.monotonic()
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(now, next_at) + 1.0 / rate
        response = requests.get(url, timeout=10)
        pages += 1
        if response.status_code != 200:
            continue
        soup = BeautifulSoup(response.text, "html.parser")
        item = soup.select_one("article.item")
        if item is not None:
            date = item.select_one("time")
            row = {
                "url": url,
                "title": text(item, "h1"),
                "category": text(item, ".category"),
                "price": text(item, ".price"),
                "date": date.get("datetime") if date else None,
            }
            rows.append(row)
            if items is not None:
                items.update_one({"url": url}, {"$set": row}, upsert=True)
        for a in soup.select("a[href]"):
            link = urljoin(url, a["href"]).split("#")[0]
            if urlparse(link).netloc == host and link not in seen:
                seen.add(link)
                queue.append(link)
    return pages, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("start")
    parser.add_argument("out")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--max-pages", type=int)
    parser.add_argument("--mongo")
    parser.add_argument("--mongo-db", default="bench_crawler_python")
    args = parser.parse_args()
    items = None
    if args.mongo:
        import pymongo
        items = pymongo.MongoClient(args.mongo)[args.mongo_db]["items"]
        items.create_index("url", unique=True)
    started = time.monotonic()
    pages, rows = crawl(args.start, args.rate, args.max_pages, items)
    df = pd.DataFrame(rows)
    # The roadmap's pandas step: clean the price, then save.
    if not df.empty:
        df["price"] = pd.to_numeric(df["price"].str.replace(r"[^0-9.]", "", regex=True))
    df.to_csv(args.out, index=False)
    elapsed = time.monotonic() - started
    print(json.dumps({"pages": pages, "items": len(rows), "elapsed_s": round(elapsed, 3),
                      "pages_per_s": round(pages / elapsed, 1)}))


if __name__ == "__main__":
    main()
