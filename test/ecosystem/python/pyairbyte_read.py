"""One PyAirbyte read of source-scarf as a local executable into PyAirbyte's default cache.

Usage: pyairbyte_read.py CONFIG_JSON SOURCE_EXECUTABLE OUT_JSON

Run with the working directory as the project folder: the default cache (DuckDB) lives in
its .cache/, and so does the state a second read continues from. Writes every stream's
cached records (PyAirbyte's own columns dropped) and the read's record counts to OUT_JSON.
test/ecosystem/pyairbyte.test.ts compares them with the simulator's ground truth.
"""

from __future__ import annotations

import json
import sys

import airbyte as ab


def main() -> None:
    config_path, executable, out_path = sys.argv[1:4]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    source = ab.get_source("source-scarf", local_executable=executable, config=config)
    source.check()
    source.select_all_streams()
    cache = ab.get_default_cache()
    result = source.read(cache=cache)
    out: dict = {"streams": {}, "processed": result.processed_records, "cache": type(cache).__name__}
    for name in source.get_selected_streams():
        rows = []
        for record in cache[name]:
            rows.append({k: v for k, v in dict(record).items() if not k.startswith("_airbyte_")})
        out["streams"][name] = rows
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, default=str)


if __name__ == "__main__":
    main()
