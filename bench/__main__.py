"""`python -m bench [--repeats N] [--only NAME ...] [--out FILE]`: runs the sections, prints tables,
and merges each section's numbers into bench/results.json under its name."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
from pathlib import Path

from bench import SECTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per case (default 30)")
    parser.add_argument("--only", nargs="*", help="section names to run (default: all)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args(argv)

    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    for module_name in SECTIONS:
        section = importlib.import_module(module_name)
        if args.only and section.NAME not in args.only:
            continue
        result = section.run(args.repeats)
        import keras

        result["environment"] = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        }
        results[section.NAME] = result
        print(section.table(result))
        print()
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
