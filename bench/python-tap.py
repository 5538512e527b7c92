#!/usr/bin/env python3
# The Python-style baseline: what a straightforward Python Singer tap does with the same
# requests (standard library only): csv.DictReader over each day's body, one json.dumps of
# the RECORD message per row, buffered writes to stdout. No typing, no de-duplication, no
# state: less work than the tap does, in the language most Singer taps are written in.
#
#   python3 bench/python-tap.py <base_url> <token> <owner> <start_day> <end_day>
import csv
import datetime
import io
import json
import sys
import time
import urllib.request


def main() -> None:
    if len(sys.argv) < 6:
        sys.stderr.write("usage: python-tap.py <base_url> <token> <owner> <start_day> <end_day>\n")
        sys.exit(2)
    base, token, owner, first, last = sys.argv[1:6]
    day = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    out = sys.stdout
    rows = 0
    t0 = time.perf_counter()
    while day <= end:
        d = day.isoformat()
        req = urllib.request.Request(
            f"{base}/v2/packages/{owner}/events?start_date={d}&end_date={d}",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/csv"},
        )
        with urllib.request.urlopen(req) as res:
            text = io.TextIOWrapper(res, encoding="utf-8", newline="")
            for row in csv.DictReader(text):
                out.write(json.dumps({"type": "RECORD", "stream": "events", "record": row}) + "\n")
                rows += 1
        day += datetime.timedelta(days=1)
    out.flush()
    secs = time.perf_counter() - t0
    sys.stderr.write(f"python: {rows} rows in {secs:.2f} s ({rows / secs:.0f} rows/s)\n")


main()
