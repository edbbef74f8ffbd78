"""Print ColumnProfile.observe throughput (values/second) on one million cells of each mix.

Run: .venv/bin/python bench/bench_values.py   (a figure, not a test; aim > 2M/s for ints/floats)
"""

import random
import time

from datawarp.pipeline.extract.profile import ColumnProfile
from datawarp.pipeline.extract.values import converter_for

CELLS = 1_000_000


def make_columns(rng: random.Random) -> dict[str, list[object]]:
    return {
        "ints": [rng.randint(0, 50_000) for _ in range(CELLS)],
        "integral floats (Excel counts)": [float(rng.randint(0, 50_000)) for _ in range(CELLS)],
        "floats": [rng.random() * 1000 for _ in range(CELLS)],
        "ints, floats, None": [rng.choice((7, 194.5, 12.0, None)) for _ in range(CELLS)],
        "CSV digit strings": [str(rng.randint(0, 50_000)) for _ in range(CELLS)],
        "CSV decimals and markers": [rng.choice(("194.5", "1,234", "*", "")) for _ in range(CELLS)],
        "CSV text": [rng.choice(("RBD", "NHS ENGLAND SOUTH WEST ", "x", "")) for _ in range(CELLS)],
    }


def throughput(values: list[object], use_batch: bool) -> float:
    profile = ColumnProfile()
    start = time.perf_counter()
    if use_batch:
        profile.observe_many(values)
    else:
        for value in values:
            profile.observe(value)
    return len(values) / (time.perf_counter() - start)


def convert_throughput(values: list[object]) -> float:
    profile = ColumnProfile()
    profile.observe_many(values)
    convert = converter_for(profile.pg_type)
    start = time.perf_counter()
    for value in values:
        convert(value)
    return len(values) / (time.perf_counter() - start)


def main() -> None:
    columns = make_columns(random.Random(42))
    print(f"{'column':34} {'observe/s':>12} {'observe_many/s':>15} {'convert/s':>12}")
    for name, values in columns.items():
        single, batch = throughput(values, False), throughput(values, True)
        print(f"{name:34} {single:12,.0f} {batch:15,.0f} {convert_throughput(values):12,.0f}")


if __name__ == "__main__":
    main()
