"""Tiny hand-checkable cases built as Python dicts (no files)."""

from __future__ import annotations

import copy
from pathlib import Path

from model.input.data import CaseData
from model.input.io import case_from_mapping


def base_case(periods: int = 1) -> dict:
    """One element X, one grade G with one recipe (0.5 t X per t magnet), yield 1, one stream of 10 t/period.

    A spot offer of oxide `ox` (content 1.0) from origin A at 10 USD/kg, lead 0, capacity 100.
    Shortage costs 100 USD/kg. No stockpile, no recycling, no licences.
    Optimum: buy 5 t/period, cost 5 t x 10 USD/kg = 50 kUSD per period.
    """
    return {
        "name": "tiny",
        "horizon": {"start_month": "2027-01", "periods": periods},
        "elements": ["X"],
        "origin_groups": [{"id": "A"}, {"id": "B"}],
        "end_uses": ["civil", "defense"],
        "materials": [{"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}}],
        "offers": [
            {"id": "a_spot", "supplier": "SA", "country": "AA", "origin_group": "A", "material": "ox",
             "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 10, "lead_time_periods": 0},
        ],
        "grades": [{"id": "G", "recipes": [{"id": "G_r", "element_t_per_t_magnet": {"X": 0.5}}]}],
        "plant": {"capacity_t_per_period": 1000, "yield_frac": 1.0},
        "streams": [{"id": "s", "grade": "G", "end_use": "civil", "demand_t_per_period": 10,
                     "shortage_cost_usd_per_kg": 100}],
        "risk": {"non_anticipative_periods": 0},
    }


def make(raw: dict) -> CaseData:
    return case_from_mapping(copy.deepcopy(raw), Path("<tiny>.yaml"))
