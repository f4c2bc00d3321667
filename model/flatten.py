"""Nested KPI dictionaries as flat ``dotted.key -> float`` maps (baselines, KPI comparisons)."""

from __future__ import annotations


def flatten(prefix: str, obj, out: dict) -> None:
    """Add every number of ``obj`` to ``out`` under its dotted key below ``prefix`` (keys sorted).

    Booleans, strings and None are left out; ints become floats."""
    if isinstance(obj, dict):
        for k in sorted(obj):
            flatten(f"{prefix}.{k}" if prefix else str(k), obj[k], out)
    elif isinstance(obj, bool):
        return
    elif isinstance(obj, (int, float)):
        out[prefix] = float(obj)
