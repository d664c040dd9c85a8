"""Reading Google Benchmark's JSON output (run with --benchmark_repetitions and
--benchmark_report_aggregates_only), shared by the bench/run_*.sh scripts."""
import json

_SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def aggregates(path, unit="us"):
    """(medians, stddevs, errors): real time per run name in `unit`, and error messages by name."""
    to_unit = 1.0 / _SCALE[unit]
    med, spread, errors = {}, {}, {}
    for b in json.load(open(path))["benchmarks"]:
        name, agg = b["run_name"], b.get("aggregate_name")
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
        elif agg == "median":
            med[name] = b["real_time"] * _SCALE[b["time_unit"]] * to_unit
        elif agg == "stddev":
            spread[name] = b["real_time"] * _SCALE[b["time_unit"]] * to_unit
    return med, spread, errors
