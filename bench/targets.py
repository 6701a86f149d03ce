"""The issue's targets, checked against the figures in results.json (a report, not a test)."""

from __future__ import annotations


def _get(results: dict, *path):
    node = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def check(results: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) per target; met is None when its section has not been run."""
    rows = []
    naive = _get(results, "extraction", "models", "seed", "naive_over_extract")
    bare = _get(results, "extraction", "models", "seed", "extract_over_bare")
    rows.append(("extraction >= 50x faster than naive (seed)", f"{naive:.0f}x" if naive else "—",
                 None if naive is None else naive >= 50))
    rows.append(("extraction <= 2x bare forward pass (seed)", f"{bare:.2f}x" if bare else "—",
                 None if bare is None else bare <= 2))
    s = _get(results, "browser", "cases", "activations: zoom channel slider", "maps_on_screen")
    rows.append(("Activations slider -> maps p50 < 250 ms, p95 < 500 ms",
                 f"p50 {s['median']:.0f} ms, p95 {s['p95']:.0f} ms" if s and s.get("n") else "—",
                 None if not (s and s.get("n")) else s["median"] < 250 and s["p95"] < 500))
    sent = [_get(results, "browser", "cases", c, "total_kib") for c in
            ("activations: zoom channel slider", "activations: colour scale (full rerun, every grid)")]
    sent = [s for s in sent if s and s.get("n")]
    worst = max((s["max"] for s in sent), default=None)
    rows.append(("<= 300 KB per Activations rerun (seed, all layers)",
                 f"max {worst * 1.024:.0f} KB" if worst is not None else "—",
                 None if worst is None else worst * 1.024 <= 300))
    cold = _get(results, "coldstart", "streamlit_run_to_first_page_rendered_s")
    rows.append(("cold start < 8 s to the first page", f"{cold['median']:.1f} s" if cold else "—",
                 None if not cold else cold["median"] < 8))
    ratio = _get(results, "training", "ratio")
    rows.append(("Train loop >= 0.8 of bare model.fit", f"{ratio:.2f}" if ratio else "—",
                 None if ratio is None else ratio >= 0.8))
    return rows


def table(results: dict) -> str:
    lines = ["== targets (2 cores, no GPU) =="]
    for target, measured, met in check(results):
        mark = "not run" if met is None else ("met" if met else "MISSED")
        lines.append(f"  {target:<55} {measured:<28} {mark}")
    return "\n".join(lines)
