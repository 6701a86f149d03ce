"""`python -m bench [SECTION ...] [--repeats N] [--out FILE]`: runs the sections (default: all), prints
their tables, and merges each section's figures into bench/results.json under its name, with the
machine, versions and date of that run."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.browser.conftest, cnnviz

from bench import NEEDS_FLOOR, SECTIONS, targets  # noqa: E402
from bench.common import gpus, machine, versions  # noqa: E402

NAMES = [m.rsplit(".", 1)[1] for m in SECTIONS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*",
                        help=f"sections to run (default: all): {' '.join(NAMES)}")
    parser.add_argument("--only", nargs="*", default=[], help="same as the positional section names")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per case (default 30)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    parser.add_argument("--sessions", type=int, default=30, help="load: simulated sessions (default 30)")
    parser.add_argument("--seconds", type=float, default=60, help="load: how long each session moves its slider")
    args = parser.parse_args(argv)
    chosen = list(args.sections) + list(args.only)
    if chosen and "floor" not in chosen and any(c in NEEDS_FLOOR for c in chosen):
        chosen.insert(0, "floor")  # ratios only against floors measured in the same run
    unknown = [s for s in chosen if s not in NAMES]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {NAMES}")

    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    found = gpus()
    print(f"machine: {machine()}\nGPU: {', '.join(found) if found else 'no GPU found'} (cnnviz.devices.list_devices)\n")
    for module_name in SECTIONS:
        name = module_name.rsplit(".", 1)[1]
        if chosen and name not in chosen:
            continue
        section = importlib.import_module(module_name)
        started = time.perf_counter()
        load_before = machine()["load_average_1_5_15"]
        if name == "load":
            result = section.run(args.repeats, sessions=args.sessions, seconds=args.seconds)
        else:
            result = section.run(args.repeats)
        result["environment"] = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.perf_counter() - started, 1),
            "machine": {**machine(), "load_average_before": load_before},
            "versions": versions(),
            "gpu": found or "no GPU found",
        }
        results[section.NAME] = result
        print(section.table(result))
        print(f"({result['environment']['seconds']} s, load before {load_before})\n", flush=True)
        out.write_text(json.dumps(results, indent=2) + "\n")  # after each section: a later failure keeps it
    print(targets.table(results))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
