"""Build graphnas/benchmarks/data/nb201_cifar10.csv.gz from the two NAS-Bench-201 CSV files.

    python scripts/make_nb201_data.py NB201_200EP.csv NB201_12EP.csv [-o graphnas/benchmarks/data/nb201_cifar10.csv.gz]

The first file has the columns ``arch,cifar10_test_acc`` (200 epochs), the second
``arch,cifar10_test_acc_12ep,cifar10_valid_acc_12ep``; both hold the same 15,625 cells. The
output keeps the first file's row order (NAS-Bench-201's architecture index) and its values
exactly as written, and is byte-for-byte reproducible (gzip level 9, no timestamp or name).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

COLUMNS = ["arch", "cifar10_test_acc", "cifar10_test_acc_12ep", "cifar10_valid_acc_12ep"]
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "graphnas" / "benchmarks" / "data" / "nb201_cifar10.csv.gz"


def read(path: Path, columns: list[str]) -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != columns:
            raise SystemExit(f"{path}: expected the header {columns}, got {header}")
        rows: dict[str, list[str]] = {}
        for line, row in enumerate(reader, start=2):
            if row[0] in rows:
                raise SystemExit(f"{path}, line {line}: {row[0]!r} appears twice")
            float(row[1]), float(row[-1])  # a number, or ValueError naming the text
            rows[row[0]] = row[1:]
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("epochs200", type=Path)
    p.add_argument("epochs12", type=Path)
    p.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    a = p.parse_args()
    full = read(a.epochs200, COLUMNS[:2])
    short = read(a.epochs12, ["arch", *COLUMNS[2:]])
    if full.keys() != short.keys():
        raise SystemExit(f"the files hold different cells: {len(full.keys() ^ short.keys())} differ")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([arch, *full[arch], *short[arch]] for arch in full)
    raw = text.getvalue().encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(raw)
    a.out.write_bytes(buf.getvalue())
    print(f"wrote {a.out}: {len(full)} cells, {len(raw):,} bytes of CSV, {len(buf.getvalue()):,} bytes gzipped")


if __name__ == "__main__":
    main()
