"""Synthetic instances of magnet-supply-risk in the project's real input format.

    python benchmarks/generate.py OUT_DIR [--suppliers 20] [--periods 24] [--scenarios 12]
                                          [--streams 3] [--elements 3] [--seed 0] [--check]
    python benchmarks/generate.py OUT_DIR --from-base inputs/base.yaml --periods 36 --scenarios 500 [--seed 1]

Writes ``OUT_DIR/case.yaml`` plus ``OUT_DIR/data/{demand,prices,capacity}.csv``: a case that
``model.input.io.read_case`` loads like any other. Every random figure is drawn from
``numpy.random.default_rng(seed)``, so the same arguments give byte-identical files.

Structure (like the default case, ``inputs/base.yaml``):

- elements ``NdPr`` (light), then heavy ``Dy``, ``Tb``, then ``E4``, ``E5``, ... (``--elements``, >= 2);
  one oxide per element, an end-of-life scrap material, and finished magnets of two grades
  ``SH`` and ``UH``, each with two recipes (bulk heavy-REE versus grain-boundary diffusion);
- origin groups ``CN``, ``allied``, ``domestic``, ``recycled``; ``--suppliers`` is the number of
  offers (at least 2 x elements + 3): per element a CN spot oxide offer and an allied contract
  (reservation fee, take-or-pay), a CN magnet offer per grade and a domestic scrap offer; the rest
  cycle through domestic spot oxide, allied magnets, allied spot oxide, domestic contracts and
  more CN traders;
- licence rules: NdPr oxide free; each heavy oxide from CN ``case_by_case`` for civil use (quota,
  approval 0.6, 2-period review); CN heavy-REE magnets ``general`` (quota) for civil use; every
  controlled CN item ``prohibited`` for defence;
- streams (``--streams``, >= 1): an EV-traction SH civil stream, a defence UH stream, then more
  civil streams alternating grades;
- a stockpile per element (initial stock by origin, capacity, holding cost, 2-month floor);
- a swarf short loop with a capacity expansion and an end-of-life long loop;
- a CN country share cap of 65 % of supply (``crma_max_share_cn``);
- scenarios (``--scenarios N`` >= 1; 0 = none) ``mode: sample, count: N, seed: S`` over a policy
  factor (status quo, heavy tightening: quota, price and prohibition effects; destination embargo:
  CN availability 0; relaxation: approval) and an outage factor (CN heavy feed cut; allied
  contract supplier outage). Every effect starts after the first (non-anticipative) period.

Time series: demand grows 8.7 %/yr, CN spot oxide prices 3 %/yr with noise, domestic heavy-oxide
capacity ramps up over the first year.

``--from-base CASE.yaml`` writes instead a case that ``extends:`` an existing case (e.g. the
default case, i.e. "default size"), with its horizon stretched to ``--periods`` (its CSVs are
extended: demand and prices continue their last-year monthly growth, capacities hold their last
value) and its scenario factors sampled (``mode: sample, count: --scenarios, seed: --seed``).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START_MONTH = "2027-01"
YIELD = 0.72
# (name, CN spot price USD/kg oxide, oxide element content, allied price multiple)
KNOWN_ELEMENTS = [("NdPr", 69.0, 0.85, 0.95), ("Dy", 239.0, 0.871, 3.35), ("Tb", 1010.0, 0.85, 3.6)]
ALLIED_COUNTRIES = ["MY", "JP", "EE", "AU", "KR", "VN", "FR", "CA"]
ALLIED_CONTRACT_SUPPLIER = "Allied RE Co"


def _month(start: str, period: int) -> str:
    """Label of ``period`` (1-based) counted from ``start`` (YYYY-MM), one month per period."""
    y, m = (int(x) for x in start.split("-"))
    k = y * 12 + (m - 1) + period - 1
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def min_suppliers(elements: int) -> int:
    return 2 * elements + 3


def _r(x: float, nd: int = 4) -> float:
    """Round to ``nd`` significant digits (keeps the YAML readable and stable)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{nd}g}")


def build_case(*, suppliers: int = 20, periods: int = 24, scenarios: int = 12, streams: int = 3,
               elements: int = 3, seed: int = 0, name: str | None = None,
               risk_weight: float = 0.0) -> tuple[dict, dict[str, list[str]]]:
    """The case mapping and its CSVs (file name -> lines), without writing anything."""
    if elements < 2:
        raise ValueError("--elements must be at least 2 (NdPr and one heavy rare earth)")
    if streams < 1:
        raise ValueError("--streams must be at least 1")
    if suppliers < min_suppliers(elements):
        raise ValueError(f"--suppliers must be at least {min_suppliers(elements)} for {elements} elements "
                         "(per element a CN spot and an allied contract oxide offer, 2 CN magnet offers, 1 scrap offer)")
    if periods < 3:
        raise ValueError("--periods must be at least 3 (1 non-anticipative period, then scenario events)")
    if scenarios < 0:
        raise ValueError("--scenarios must be >= 0")
    rng = np.random.default_rng(seed)
    T = periods
    name = name or f"synth-o{suppliers}-t{periods}-s{scenarios}-st{streams}-e{elements}-seed{seed}"

    # ---------------------------------------------------------------- elements and materials
    el = []  # dicts: id, cn_price, content, allied_mult
    for i in range(elements):
        if i < len(KNOWN_ELEMENTS):
            n, p, c, a = KNOWN_ELEMENTS[i]
        else:
            n, p, c, a = f"E{i + 1}", float(rng.uniform(150, 1500)), float(rng.uniform(0.82, 0.88)), float(rng.uniform(1.5, 3.5))
        el.append({"id": n, "cn_price": p, "content": c, "allied_mult": a, "oxide": f"{n.lower()}_oxide"})
    E = [e["id"] for e in el]
    H = E[1:]  # heavy rare earths
    eld = {e["id"]: e for e in el}

    materials = [{"id": e["oxide"], "kind": "oxide", "element_content_frac": {e["id"]: _r(e["content"])},
                  "source": "synthetic (benchmarks/generate.py)"} for e in el]
    scrap_content = {"NdPr": 0.2115, H[0]: 0.0165}
    materials.append({"id": "eol_magnet_scrap", "kind": "scrap", "element_content_frac": scrap_content,
                      "source": "synthetic"})
    grades = ["SH", "UH"]
    magnet_mat = {g: f"magnet_{g.lower()}" for g in grades}
    materials += [{"id": magnet_mat[g], "kind": "magnet", "grade": g, "source": "synthetic"} for g in grades]

    # ---------------------------------------------------------------- grades: 2 grades x 2 recipes
    h_alt = H[1] if len(H) > 1 else H[0]
    recipes = {
        "SH": [{"id": "SH_bulk", "element_t_per_t_magnet": {"NdPr": 0.275, H[0]: 0.0325}},
               {"id": "SH_gbd", "element_t_per_t_magnet": {"NdPr": 0.275 if h_alt != H[0] else 0.285, h_alt: 0.0125}}],
        "UH": [{"id": "UH_gbd", "element_t_per_t_magnet": {"NdPr": 0.255 if h_alt != H[0] else 0.265, h_alt: 0.020}},
               {"id": "UH_bulk", "element_t_per_t_magnet": {"NdPr": 0.255, H[0]: 0.050}}],
    }
    flat = [r for g in grades for r in recipes[g]]
    for k, e in enumerate(H[2:]):  # extra elements: a small content in one recipe each
        flat[k % len(flat)]["element_t_per_t_magnet"][e] = _r(float(rng.uniform(0.002, 0.008)))

    # ---------------------------------------------------------------- streams and demand
    st = []
    for k in range(streams):
        if k == 0:
            st.append({"id": "ev_traction", "grade": "SH", "end_use": "civil", "d0": 120.0, "short": 500.0})
        elif k == 1:
            st.append({"id": "defense", "grade": "UH", "end_use": "defense", "d0": 5.0, "short": 2000.0})
        else:
            st.append({"id": f"stream_{k + 1}", "grade": grades[k % 2], "end_use": "civil",
                       "d0": _r(float(rng.uniform(5, 30))), "short": _r(float(rng.uniform(200, 600)))})
    growth = 1.087 ** (1 / 12)
    demand = {s["id"]: [s["d0"] * growth ** t for t in range(T)] for s in st}
    grade_demand = {g: sum(s["d0"] for s in st if s["grade"] == g) for g in grades}
    total_demand = sum(grade_demand.values())
    # element need (t element / month at period 1) if every stream used the recipe heaviest in that element
    need = {e: sum(s["d0"] * max(r["element_t_per_t_magnet"].get(e, 0.0) for r in recipes[s["grade"]]) for s in st) / YIELD
            for e in E}
    need_ox = {e: max(need[e] / eld[e]["content"], 0.05) for e in E}

    # ---------------------------------------------------------------- offers
    offers: list[dict] = []
    counter = {"n": 0}

    def add(group: str, kind: str, material: str, cap: float, price: float, country: str, supplier: str,
            **extra) -> dict:
        counter["n"] += 1
        o = {"id": f"o{counter['n']:03d}_{group.lower()}_{material}_{kind}", "supplier": supplier,
             "country": country, "origin_group": group, "material": material, "kind": kind,
             "capacity_t_per_period": _r(cap), "price_usd_per_kg": _r(price),
             "lead_time_periods": 1, **extra, "source": "synthetic"}
        offers.append(o)
        return o

    allied_price = {e: eld[e]["cn_price"] * eld[e]["allied_mult"] for e in E}
    cn_oxide_offers: list[dict] = []
    for e in E:  # core: CN spot trader and allied contract per element
        o = add("CN", "spot", eld[e]["oxide"], (1.3 if e == "NdPr" else 0.9) * need_ox[e], eld[e]["cn_price"], "CN",
                f"CN trader {e}")
        cn_oxide_offers.append(o)
        p = allied_price[e]
        add("allied", "contract", eld[e]["oxide"], 0.35 * need_ox[e], p, ALLIED_COUNTRIES[0], ALLIED_CONTRACT_SUPPLIER,
            reservation_fee_usd_per_kg=_r(0.05 * p), min_take_frac=_r(float(rng.uniform(0.5, 0.8)), 2))
    cn_magnet_price = {"SH": 50.0, "UH": 65.0}
    for g in grades:
        add("CN", "spot", magnet_mat[g], max(0.1 * grade_demand[g], 0.5), cn_magnet_price[g], "CN", f"CN magnet maker {g}")
    scrap_cap = max(0.2 * total_demand, 1.0)
    add("domestic", "spot", "eol_magnet_scrap", scrap_cap, 10.0, "US", "US scrap collectors")

    templates = ([("domestic", "spot", "oxide", e) for e in E] + [("allied", "spot", "magnet", g) for g in grades]
                 + [("allied", "spot", "oxide", e) for e in E] + [("domestic", "contract", "oxide", e) for e in E]
                 + [("CN", "spot", "oxide", e) for e in E])
    ramped: list[str] = []
    k = 0
    while len(offers) < suppliers:
        group, kind, what, x = templates[k % len(templates)]
        rep = k // len(templates)
        shrink = 1.0 / (1 + rep)
        k += 1
        mult = float(rng.uniform(0.9, 1.1))
        if what == "magnet":
            country = ALLIED_COUNTRIES[(1 + k) % len(ALLIED_COUNTRIES)]
            add(group, kind, magnet_mat[x], max(0.06 * grade_demand[x], 0.3) * shrink,
                cn_magnet_price[x] * float(rng.uniform(1.8, 2.5)), country, f"Allied magnet maker {k}")
            continue
        country = {"CN": "CN", "domestic": "US"}.get(group, ALLIED_COUNTRIES[(1 + k) % len(ALLIED_COUNTRIES)])
        if group == "domestic":
            price = allied_price[x] * (1.0 if x != "NdPr" else 1.4) * mult
            share = 0.2
        elif group == "allied":
            price = allied_price[x] * 1.1 * mult
            share = 0.15
        else:  # a further CN trader: covered by the same licence rules
            price = eld[x]["cn_price"] * 1.05 * mult
            share = 0.3
        extra = {}
        if kind == "contract":
            extra = {"reservation_fee_usd_per_kg": _r(0.04 * price), "min_take_frac": _r(float(rng.uniform(0.3, 0.7)), 2)}
        o = add(group, kind, eld[x]["oxide"], share * need_ox[x] * shrink * float(rng.uniform(0.8, 1.2)), price, country,
                f"{group} {x} supplier {k}", **extra)
        if group == "domestic" and kind == "spot" and x != "NdPr":
            ramped.append(o["id"])

    # ---------------------------------------------------------------- licence rules
    rules = [{"id": "cn_ndpr_oxide_free", "origin_groups": ["CN"], "materials": [eld["NdPr"]["oxide"]],
              "end_uses": ["civil", "defense"], "regime": "free", "source": "synthetic"}]
    for e in H:
        cn_cap = sum(o["capacity_t_per_period"] for o in offers if o["origin_group"] == "CN" and o["material"] == eld[e]["oxide"])
        rules.append({"id": f"cn_{e.lower()}_oxide_civil", "origin_groups": ["CN"], "materials": [eld[e]["oxide"]],
                      "end_uses": ["civil"], "regime": "case_by_case", "quota_t_per_period": _r(0.5 * cn_cap),
                      "approval_frac": 0.6, "review_lead_time_periods": 2, "source": "synthetic"})
    cn_mag_cap = sum(o["capacity_t_per_period"] for o in offers if o["origin_group"] == "CN" and o["material"].startswith("magnet_"))
    rules.append({"id": "cn_hre_magnets_civil", "origin_groups": ["CN"], "materials": [magnet_mat[g] for g in grades],
                  "end_uses": ["civil"], "regime": "general", "quota_t_per_period": _r(0.8 * cn_mag_cap), "source": "synthetic"})
    rules.append({"id": "cn_controlled_defense", "origin_groups": ["CN"],
                  "materials": [eld[e]["oxide"] for e in H] + [magnet_mat[g] for g in grades],
                  "end_uses": ["defense"], "regime": "prohibited", "source": "synthetic"})

    # ---------------------------------------------------------------- stockpile, recycling, limits
    stock = []
    for e in E:
        value = allied_price[e] / eld[e]["content"]  # USD/kg element
        init = 3 * need[e]
        init_by = {"CN": _r(0.6 * init), "allied": _r(0.3 * init), "domestic": _r(0.1 * init)}
        stock.append({"element": e, "initial_t_by_origin": init_by, "capacity_t": _r(max(6 * need[e], 1.1 * init + 0.1)),
                      "holding_cost_usd_per_kg_per_period": _r(0.10 * value / 12), "floor_months_of_use": 2,
                      "floor_penalty_usd_per_kg": _r(0.10 * value), "source": "synthetic"})
    swarf = (1 / YIELD - 1) * total_demand
    routes = [
        {"id": "swarf_short_loop", "feed": "swarf", "grades": list(grades),
         "capacity_t_feed_per_period": _r(0.2 * swarf), "cost_usd_per_kg_feed": 15,
         "recovery_frac": {e: 0.9 for e in E}, "output_origin_group": "recycled", "country": "US",
         "expansion": {"cost_usd_per_t_per_period": 200000, "build_lead_time_periods": min(6, max(1, T // 4)),
                       "max_t_per_period": _r(0.4 * swarf)},
         "source": "synthetic"},
        {"id": "eol_long_loop", "feed": "eol_magnet_scrap", "capacity_t_feed_per_period": _r(1.4 * scrap_cap),
         "cost_usd_per_kg_feed": 10, "recovery_frac": {"NdPr": 0.92, H[0]: 0.92},
         "output_origin_group": "recycled", "country": "CA", "source": "synthetic"},
    ]
    limits = [{"id": "crma_max_share_cn", "group_by": "country", "value": "CN", "max_share_frac": 0.65,
               "basis": "supply", "source": "synthetic"}]

    case = {
        "name": name,
        "description": (f"Synthetic instance (benchmarks/generate.py): {suppliers} offers, {T} periods, "
                        f"{scenarios} sampled scenarios, {streams} streams, {elements} elements, seed {seed}."),
        "horizon": {"start_month": START_MONTH, "periods": T, "months_per_period": 1},
        "elements": E,
        "origin_groups": [{"id": g} for g in ("CN", "allied", "domestic", "recycled")],
        "end_uses": ["civil", "defense"],
        "materials": materials,
        "offers": offers,
        "licence_rules": rules,
        "grades": [{"id": g, "recipes": [dict(r, source="synthetic") for r in recipes[g]]} for g in grades],
        "plant": {"capacity_t_per_period": _r(1.3 * total_demand), "yield_frac": YIELD,
                  "conversion_cost_usd_per_kg": 20, "swarf_credit_usd_per_kg": 8, "source": "synthetic"},
        "streams": [{"id": s["id"], "grade": s["grade"], "end_use": s["end_use"],
                     "shortage_cost_usd_per_kg": s["short"], "source": "synthetic"} for s in st],
        "stockpile": stock,
        "recycling_routes": routes,
        "diversification_limits": limits,
        "risk": {"cvar_alpha": 0.95, "risk_weight_lambda": risk_weight, "non_anticipative_periods": 1},
        "timeseries": {"demand": "data/demand.csv", "price": "data/prices.csv", "capacity": "data/capacity.csv"},
    }
    if scenarios > 0:
        case["scenarios"] = _scenarios(T, scenarios, seed, H, eld, magnet_mat, grades)

    # ---------------------------------------------------------------- CSVs
    labels = [_month(START_MONTH, t + 1) for t in range(T)]
    csv: dict[str, list[str]] = {}
    ids = [s["id"] for s in st]
    csv["demand.csv"] = ["# synthetic demand, t of magnet per period (benchmarks/generate.py); +8.7 %/yr",
                         "period," + ",".join(ids)]
    csv["demand.csv"] += [labels[t] + "," + ",".join(f"{demand[i][t]:.4f}" for i in ids) for t in range(T)]
    pcols = [o["id"] for o in cn_oxide_offers]
    trend = 1.03 ** (1 / 12)
    pser = {o["id"]: [o["price_usd_per_kg"] * trend ** t * float(rng.uniform(0.97, 1.03)) for t in range(T)] for o in cn_oxide_offers}
    csv["prices.csv"] = ["# synthetic CN spot oxide prices, USD/kg; +3 %/yr with +-3 % noise", "period," + ",".join(pcols)]
    csv["prices.csv"] += [labels[t] + "," + ",".join(f"{pser[i][t]:.4f}" for i in pcols) for t in range(T)]
    capd = {o["id"]: o["capacity_t_per_period"] for o in offers}
    cser = {i: [capd[i] * min(1.0, 0.4 + 0.6 * t / 11) for t in range(T)] for i in ramped}
    cser["plant"] = [case["plant"]["capacity_t_per_period"] * growth ** t for t in range(T)]
    ccols = list(cser)
    csv["capacity.csv"] = ["# synthetic capacities, t per period: domestic heavy oxide ramp 40 % -> 100 % in year 1; "
                           "plant grows with demand", "period," + ",".join(ccols)]
    csv["capacity.csv"] += [labels[t] + "," + ",".join(f"{cser[i][t]:.4f}" for i in ccols) for t in range(T)]
    return case, csv


def _scenarios(T: int, count: int, seed: int, H: list[str], eld: dict, magnet_mat: dict, grades: list[str]) -> dict:
    """Sample-mode scenario block: a policy factor and an outage factor; every window starts in period >= 2."""
    m = lambda p: _month(START_MONTH, p)  # noqa: E731
    s0, s1 = 2, max(2, (2 * T) // 3)
    n0 = max(1, T // 4)
    n1 = max(n0, T // 2)
    win = {"start": m(s0), "periods": n0, "start_latest": m(s1), "periods_max": n1}
    heavy_rules = [f"cn_{e.lower()}_oxide_civil" for e in H]
    heavy_ox = [eld[e]["oxide"] for e in H]
    mags = [magnet_mat[g] for g in grades]
    policy = [
        {"name": "status_quo", "probability": 0.45},
        {"name": "heavy_tightening", "probability": 0.20, "effects": [
            {"kind": "quota", "select": {"licence_rules": heavy_rules}, "factor": 0.4615, **win},
            {"kind": "quota", "select": {"licence_rules": ["cn_hre_magnets_civil"]}, "factor": 0.421, **win},
            {"kind": "prohibit_end_uses", "select": {"origin_groups": ["CN"], "materials": [eld["NdPr"]["oxide"]]},
             "end_uses": ["defense"], **win},
            {"kind": "price", "select": {"origin_groups": ["allied", "domestic"], "materials": heavy_ox}, "factor": 1.2, **win},
        ]},
        {"name": "destination_embargo", "probability": 0.10, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["CN"]}, "factor": 0.0,
             "start": m(min(4, T)), "periods": max(1, (3 * T) // 8), "start_latest": m(max(min(4, T), s1)),
             "periods_max": max(max(1, (3 * T) // 8), T // 2)},
        ]},
        {"name": "relaxation", "probability": 0.25, "effects": [
            {"kind": "approval", "select": {"licence_rules": heavy_rules}, "approval_frac": 0.95,
             "start": m(s0), "start_latest": m(max(s0, T // 2))},
            {"kind": "quota", "select": {"licence_rules": ["cn_hre_magnets_civil"]}, "factor": 1.0526,
             "start": m(s0), "start_latest": m(max(s0, T // 2))},
        ]},
    ]
    o_start = min(T, 7)
    o_win = {"start": m(o_start), "periods": max(1, T // 6), "start_latest": m(max(o_start, T - 3)),
             "periods_max": max(max(1, T // 6), T // 4)}
    outage = [
        {"name": "no_outage", "probability": 0.5625},
        {"name": "cn_feed_cut", "probability": 0.21875, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["CN"], "materials": heavy_ox + mags}, "factor": 0.5, **o_win},
        ]},
        {"name": "allied_outage", "probability": 0.21875, "effects": [
            {"kind": "availability", "select": {"suppliers": [ALLIED_CONTRACT_SUPPLIER]}, "factor": 0.5, **o_win},
        ]},
    ]
    return {"mode": "sample", "count": count, "seed": seed,
            "factors": [{"name": "policy", "options": policy}, {"name": "outage", "options": outage}]}


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated objects in full (``read_case`` refuses YAML aliases)."""

    def ignore_aliases(self, data):  # noqa: D401 - PyYAML hook
        return True


def _dump(obj: dict) -> str:
    return yaml.dump(obj, Dumper=_NoAliasDumper, sort_keys=False, width=120)


def write_case(out_dir: str | Path, **params) -> Path:
    """Generate and write ``out_dir/case.yaml`` and its CSVs; returns the YAML's path."""
    out = Path(out_dir)
    case, csv = build_case(**params)
    (out / "data").mkdir(parents=True, exist_ok=True)
    for fname, lines in csv.items():
        (out / "data" / fname).write_text("\n".join(lines) + "\n")
    path = out / "case.yaml"
    head = "# Generated by benchmarks/generate.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in params.items()) + "\n"
    path.write_text(head + _dump(case))
    return path


# ------------------------------------------------------------------------------ from an existing case

def _extend_csv(src: Path, dst: Path, periods: int, kind: str) -> None:
    """Copy a wide period CSV, extended to ``periods`` rows (demand/price: last-year growth; capacity: hold)."""
    import pandas as pd

    df = pd.read_csv(src, comment="#", dtype={"period": str}, skipinitialspace=True)
    cols = [c for c in df.columns if c != "period"]
    rows = df.to_dict("records")
    start = str(rows[0]["period"]).strip()
    n0 = len(rows)
    vals = {c: [float(r[c]) for r in rows] for c in cols}
    for c in cols:
        v = vals[c]
        g = 1.0
        if kind != "capacity" and n0 >= 13 and v[-13] > 0 and v[-1] > 0:
            g = (v[-1] / v[-13]) ** (1 / 12)
        while len(v) < periods:
            v.append(v[-1] * g)
        del v[periods:]
    lines = [f"# {src.name} extended to {periods} periods by benchmarks/generate.py "
             f"({'last value held' if kind == 'capacity' else 'last-year monthly growth continued'})",
             "period," + ",".join(cols)]
    lines += [_month(start, t + 1) + "," + ",".join(f"{vals[c][t]:.6g}" for c in cols) for t in range(periods)]
    dst.write_text("\n".join(lines) + "\n")


def write_from_base(out_dir: str | Path, base: str | Path, periods: int | None = None, scenarios: int = 500,
                    seed: int = 1, name: str | None = None) -> Path:
    """A case extending ``base`` (its structure and size), horizon ``periods``, ``scenarios`` sampled."""
    from model.input.yaml_safe import load_yaml

    out = Path(out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    base = Path(base).resolve()
    raw = load_yaml(base, str(base))
    T0 = raw["horizon"]["periods"]
    T = periods or T0
    child: dict = {"extends": str(base), "name": name or f"{raw['name']}-t{T}-s{scenarios}",
                   "description": f"{raw['name']} stretched to {T} periods with {scenarios} sampled scenarios "
                                  f"(benchmarks/generate.py --from-base, seed {seed})."}
    if T != T0:
        child["horizon"] = {"periods": T}
        ts = {}
        for kind, rel in (raw.get("timeseries") or {}).items():
            if rel is None:
                continue
            dst = out / "data" / f"{kind}.csv"
            _extend_csv(base.parent / rel, dst, T, kind)
            ts[kind] = f"data/{kind}.csv"
        child["timeseries"] = ts
    if scenarios > 0:
        if not raw.get("scenarios"):
            raise ValueError(f"{base} has no scenarios to sample from")
        child["scenarios"] = {"mode": "sample", "count": scenarios, "seed": seed}
    path = out / "case.yaml"
    path.write_text(f"# Generated by benchmarks/generate.py --from-base {base} --periods {T} --scenarios {scenarios} "
                    f"--seed {seed}\n" + _dump(child))
    return path


def check(path: Path) -> str:
    """Load with ``read_case`` and solve the case's first scenario alone (deterministic)."""
    from model.components.build import build_scenario_model
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.solve.highs import SolverOptions, solve

    data = read_case(path)
    cases = scenario_cases(data)
    b = build_scenario_model(cases[0])
    r = solve(b.model, SolverOptions())
    return (f"{path}: read OK, {len(cases)} scenario(s); scenario {cases[0].scenario!r} alone: {r.termination}, "
            f"objective {r.objective_kusd:,.1f} kUSD, {r.n_columns} columns, {r.n_rows} rows")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (case.yaml and data/*.csv are written there)")
    ap.add_argument("--suppliers", type=int, default=20, help="number of offers (default 20, like the default case)")
    ap.add_argument("--periods", type=int, default=None, help="monthly periods (default 24)")
    ap.add_argument("--scenarios", type=int, default=12, help="sampled scenarios (0 = none; default 12)")
    ap.add_argument("--streams", type=int, default=3)
    ap.add_argument("--elements", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--risk-weight", type=float, default=0.0, help="risk.risk_weight_lambda (default 0)")
    ap.add_argument("--from-base", default=None, metavar="CASE.yaml",
                    help="extend an existing case instead (stretch its horizon to --periods, sample --scenarios)")
    ap.add_argument("--check", action="store_true", help="read the written case back and solve its first scenario")
    a = ap.parse_args(argv)
    if a.from_base:
        path = write_from_base(a.out, a.from_base, a.periods, a.scenarios, a.seed)
    else:
        path = write_case(a.out, suppliers=a.suppliers, periods=a.periods or 24, scenarios=a.scenarios,
                          streams=a.streams, elements=a.elements, seed=a.seed, risk_weight=a.risk_weight)
    print(path)
    if a.check:
        print(check(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
