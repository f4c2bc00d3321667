"""Explain an infeasible model in input terms, from the IIS HiGHS found.

``explain(err, builts)`` turns the conflicting rows and bounds of a :class:`~model.errors.SolveError`
into lines such as ``minimum take of offer lynas_ndpr_oxide_contract in 2027-03 (offers[...].min_take_frac)``
so a planner sees which of their hard inputs conflict: minimum takes and committed contracts, hard
stockpile floors, hard service levels, diversification caps, capacities and the balances that tie
them together.
"""

from __future__ import annotations

from model.components.build import BuiltModel
from model.components.catalogue import DEFAULT_PLANT, by_component
from model.errors import SolveError

def _label(idx, periods, period_last: bool) -> list[str]:
    idx = list(idx) if isinstance(idx, tuple) else [idx]
    if period_last and idx and isinstance(idx[-1], int) and 1 <= idx[-1] <= len(periods):
        idx[-1] = periods[idx[-1] - 1]
    return [str(x) for x in idx]


def describe(con, builts_by_block: dict, periods) -> str:
    comp = con.parent_component().local_name
    block = con.parent_block()
    scen = builts_by_block.get(id(block))
    where = f" [scenario {scen}]" if scen and len(builts_by_block) > 1 else ""
    entry = by_component().get(comp)  # the wording of each constraint component is in its catalogue entry
    if entry is not None and entry.infeasible is not None:
        text, field = entry.infeasible.text, entry.infeasible.field
        args = _label(con.index(), periods, entry.period_last)
        if args and args[0] == DEFAULT_PLANT:  # a one-plant case: no "at plant plant", and the plant's own field
            text = text.replace(" at plant {0}", "").replace("capacity of plant {0}", "plant capacity")
            field = field.replace("plants[{0}].", "plant.")
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
    lines = sorted(lines, key=lambda s: min([order[k] for k in order if s.startswith(k) or k in s.split(" of ")[0]] or [99]))
    return lines + causes(err, builts)


def causes(err: SolveError, builts: list[BuiltModel]) -> list[str]:
    """Plain-words causes a planner can act on, where the conflict shows one. Today: a hard floor that
    binds from the first periods while the initial stock is below it (the stock cannot be raised to
    the floor in time), e.g. ``cause: the initial stock of X (0.5 t) is below its hard floor (10 t) ...``."""
    data = builts[0].data
    initial = {(data.case.plant_of(sp), sp.element): sum(sp.initial_t_by_origin.values()) for sp in data.case.stockpile}
    first_t: dict[tuple[str, str], tuple[int, float]] = {}
    for con in err.conflict_rows:
        if con.parent_component().local_name != "HardFloor":
            continue
        p, e, t = con.index()
        e = (p, e)
        floor = float(con.lower) if con.lower is not None else 0.0
        if initial.get(e, 0.0) < floor - 1e-9 and (e not in first_t or t < first_t[e][0]):
            first_t[e] = (t, floor)
    def name(pe):
        return pe[1] if pe[0] == DEFAULT_PLANT else f"{pe[1]} at plant {pe[0]}"

    return [f"cause: the initial stock of {name(pe)} ({initial.get(pe, 0.0):g} t) is below its hard floor ({floor:g} t), "
            f"and the floor cannot be reached by the end of {data.periods[t - 1]}: lower the floor, set "
            f"stockpile[{pe[1]}].floor_hard: false (a priced floor) or raise stockpile[{pe[1]}].initial_t_by_origin"
            for pe, (t, floor) in sorted(first_t.items())]
