"""``python -m bench`` runs every benchmark; ``python -m bench NAME [args]`` one of them."""
from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "analysis": "bench.analysis_bench",
    "dashboard": "bench.dashboard",
    "pls": "bench.pls_bench",
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])
    if argv:
        print(f"unknown benchmark {argv[0]!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status = 0
    for name, module in BENCHMARKS.items():
        print(f"== {name}")
        status |= importlib.import_module(module).main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
