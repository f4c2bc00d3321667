"""Explain an infeasible model in input terms, from the IIS HiGHS found.

``explain(err, builts)`` turns the conflicting rows and bounds of a :class:`~model.errors.SolveError`
into lines such as ``minimum take of offer lynas_ndpr_oxide_contract in 2027-03 (offers[...].min_take_frac)``
so a planner sees which of their hard inputs conflict: minimum takes and committed contracts, hard
stockpile floors, hard service levels, diversification caps, capacities and the balances that tie
them together.
"""

from __future__ import annotations

from model.components.build import BuiltModel
from model.errors import SolveError

# constraint component -> (what it is, the input field behind it, how its index reads)
DESCRIPTIONS = {
    "MinimumTake": ("minimum take of offer {0} in {1}", "offers[{0}].min_take_frac"),
    "CommittedReservation": ("committed reservation of offer {0} in {1}", "offers[{0}].committed_t_per_period"),
    "WithinReservation": ("purchases of offer {0} within its reservation in {1}", "offers[{0}]"),
    "ContractCapacity": ("capacity of contract offer {0} in {1}", "offers[{0}].capacity_t_per_period"),
    "SpotCapacity": ("capacity of spot offer {0} in {1}", "offers[{0}].capacity_t_per_period"),
    "LicenceQuota": ("licence quota of rule {0} in {1}", "licence_rules[{0}].quota_t_per_period"),
    "HardFloor": ("hard strategic floor of element {0} at the end of {1}", "stockpile[{0}].floor_hard"),
    "StockCapacity": ("stockpile capacity of element {0} at the end of {1}", "stockpile[{0}].capacity_t"),
    "ServiceLevel": ("hard service level of stream {0} in {1}", "streams[{0}].min_service_frac"),
    "DiversificationCap": ("diversification limit {0} in calendar year {1}", "diversification_limits[{0}].max_share_frac"),
    "PlantCapacity": ("plant capacity in {0}", "plant.capacity_t_per_period"),
    "RecyclingCapacity": ("capacity of recycling route {0} in {1}", "recycling_routes[{0}].capacity_t_feed_per_period"),
    "ElementBalance": ("balance of element {0} of origin {1} in {2}", "(balance)"),
    "DemandBalance": ("demand balance of stream {0} in {1}", "streams[{0}]"),
    "BillOfMaterials": ("bill of materials of stream {0}, element {1}, in {2}", "grades[].recipes"),
    "MagnetBalance": ("finished-magnet balance of {0} from {1} in {2}", "(balance)"),
    "ScrapBalance": ("scrap balance of {0} in {1}", "(balance)"),
    "SwarfBalance": ("swarf balance of recipe {0} in {1}", "(balance)"),
    "TerminalRequirement": ("terminal stock requirement of element {0}", "stockpile[{0}].terminal_min_t"),
    "StrategicFloor": ("strategic floor of element {0} at the end of {1}", "stockpile[{0}].floor_t"),
    "NonAnticipativity": ("non-anticipativity of scenario {0}, first-stage decision {1}", "risk.non_anticipative_periods"),
}
# components whose index ends in a period (an int) or, for caps, a calendar year
PERIOD_LAST = set(DESCRIPTIONS) - {"DiversificationCap", "TerminalRequirement", "NonAnticipativity"}


def _label(idx, periods, comp: str) -> list[str]:
    idx = list(idx) if isinstance(idx, tuple) else [idx]
    if comp in PERIOD_LAST and idx and isinstance(idx[-1], int) and 1 <= idx[-1] <= len(periods):
        idx[-1] = periods[idx[-1] - 1]
    return [str(x) for x in idx]


def describe(con, builts_by_block: dict, periods) -> str:
    comp = con.parent_component().local_name
    block = con.parent_block()
    scen = builts_by_block.get(id(block))
    where = f" [scenario {scen}]" if scen and len(builts_by_block) > 1 else ""
    if comp in DESCRIPTIONS:
        text, field = DESCRIPTIONS[comp]
        args = _label(con.index(), periods, comp)
        try:
            origin = "" if field.startswith("(") else f" ({field.format(*args)})"
            return f"{text.format(*args)}{origin}{where}"
        except IndexError:
            pass
    return f"{con.name}{where}"


def explain(err: SolveError, builts: list[BuiltModel]) -> list[str]:
    """One line per conflicting hard input, in input terms, most specific first."""
    by_block = {id(b.model): b.data.scenario for b in builts}
    periods = builts[0].data.periods
    lines, seen = [], set()
    for con in err.conflict_rows:
        d = describe(con, by_block, periods)
        if d not in seen:
            seen.add(d)
            lines.append(d)
    for var, side in err.conflict_bounds:
        d = f"{side} bound of {var.name}"
        if d not in seen:
            seen.add(d)
            lines.append(d)
    order = {k: i for i, k in enumerate(["minimum take", "committed", "hard", "diversification", "licence", "capacity"])}
    return sorted(lines, key=lambda s: min([order[k] for k in order if s.startswith(k) or k in s.split(" of ")[0]] or [99]))
