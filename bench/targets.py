"""The issues' targets, checked against the figures in results.json (a report, not a test). Browser and
cold-start targets are ratios to floors measured in the same run (bench.floor)."""

from __future__ import annotations


def _get(results: dict, *path):
    node = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _row(target: str, value, fmt: str, ok) -> tuple[str, str, bool | None]:
    return (target, fmt.format(value) if value is not None else "—", None if value is None else ok(value))


def check(results: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) per target; met is None when its section has not been run."""
    rows = []
    bare = _get(results, "extraction", "models", "seed", "extract_over_bare")
    rows.append(_row("extraction <= 1.5x bare predict_on_batch (seed)", bare, "{:.2f}x", lambda v: v <= 1.5))
    ratios = _get(results, "attribution", "over_forward") or {}
    rows.append(_row("Grad-CAM <= 3x one forward pass (trained default)", ratios.get("grad_cam"), "{:.2f}x",
                     lambda v: v <= 3))
    rows.append(_row("SmoothGrad, 20 samples <= 25x one forward pass (trained default)", ratios.get("smoothgrad"),
                     "{:.1f}x", lambda v: v <= 25))
    lite0 = _get(results, "attribution", "lite0", "over_forward") or {}
    rows.append(_row("SmoothGrad, 20 samples <= 25x one forward pass (EfficientNet-Lite0)", lite0.get("smoothgrad"),
                     "{:.1f}x", lambda v: v <= 25))
    for layer, r in (_get(results, "attribution", "featurevis") or {}).items():
        rows.append(_row(f"feature visualisation: {layer}'s whole grid <= 3x one filter", r.get("layer_over_one"),
                         "{:.1f}x", lambda v: v <= 3))
    for name, case in (_get(results, "browser", "cases") or {}).items():
        p50, p95 = case.get("p50_over_bare_p50"), case.get("p95_over_bare_p50")
        limit = case.get("target_p50_ratio", 2.0)
        rows.append((f"{name}: p50 <= {limit}x, p95 <= 3x bare p50",
                     f"{p50:.2f}x / {p95:.2f}x" if p50 is not None else "—",
                     None if p50 is None else (p50 <= limit and p95 <= 3.0)))
    rows.append(_row("cold start: usable first page <= 1.5x bare app's cold start",
                     _get(results, "coldstart", "usable_over_bare_cold_start"), "{:.2f}x", lambda v: v <= 1.5))
    rows.append(_row("cold start: complete first page <= 1.15x import keras + Conv2D",
                     _get(results, "coldstart", "complete_over_import_keras_conv2d"), "{:.2f}x", lambda v: v <= 1.15))
    rows.append(_row("warm server: first session's page as fast as a later one's (<= 1.1x)",
                     _get(results, "coldstart", "warm_first_over_later"), "{:.2f}x", lambda v: v <= 1.1))
    rows.append(_row("a class: 30 sessions, p95 <= 5x bare p50",
                     _get(results, "load", "crowd_p95_over_bare_p50"), "{:.2f}x", lambda v: v <= 5))
    errors = _get(results, "load", "crowd", "error_count")
    wrong = _get(results, "load", "crowd", "wrong_state")
    rows.append(_row("a class: no error, no session sees another's state",
                     None if errors is None else (errors, wrong), "{0[0]} errors, {0[1]} wrong",
                     lambda v: v == (0, 0)))
    rows.append(_row("a class: server RSS <= 1.5 GB", _get(results, "load", "crowd", "rss_max_mib"), "{:.0f} MiB",
                     lambda v: v <= 1536))
    for name, goal in (("seed_trained", 24), ("efficientnet_lite0", 12), ("efficientnet_lite0+cam", 8)):
        rows.append(_row(f"live: {name} >= {goal} fps drawn", _get(results, "live", "cases", name, "fps"), "{:.1f} fps",
                         lambda v, goal=goal: v >= goal))
        p95 = _get(results, "live", "cases", name, "latency", "p95")
        rows.append(_row(f"live: {name} latency p95 <= 200 ms", p95, "{:.0f} ms", lambda v: v <= 200))
    for name in ("seed_trained", "efficientnet_lite0"):
        rows.append(_row(f"live: {name} lag after 2 min does not grow (last 20 s p50 / first 20 s p50 <= 1.1)",
                         _get(results, "live", "cases", name, "lag_growth"), "{:.2f}", lambda v: v <= 1.1))
    rows.append(_row("live: 4 Lite0 sessions at once, each >= 3 fps", _get(results, "live", "four_lite0", "fps_min"),
                     "{:.1f} fps", lambda v: v >= 3))
    rows.append(_row("live: Layer lab slider meanwhile <= 2x idle", _get(results, "live", "four_lite0", "slider_p50_over_idle"),
                     "{:.2f}x", lambda v: v <= 2))
    ratio = _get(results, "training", "ratio")
    rows.append(_row("Train loop >= 0.8 of bare model.fit", ratio, "{:.2f}", lambda v: v >= 0.8))
    return rows


def table(results: dict) -> str:
    lines = ["== targets (ratios to floors of the same run) =="]
    for target, measured, met in check(results):
        mark = "not run" if met is None else ("met" if met else "MISSED")
        lines.append(f"  {target:<72} {measured:<20} {mark}")
    return "\n".join(lines)
