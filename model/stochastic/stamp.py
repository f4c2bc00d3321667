r"""Stamping: one scenario LP per *structure* built and compiled by Pyomo, the others written into its arrays.

Scenarios of one case differ in their data (prices, demand, capacities, availability, quota factors,
approval shares) and sometimes in their index sets (a review lead time moves arrivals, an ``admit`` or
``prohibit_end_uses`` effect adds or removes uses, a lapsed renewal zeroes quotas). Building a scenario's
Pyomo model and compiling it to standard form (``benders.compile_built``) costs about 0.1 s; writing
another scenario's numbers into a compiled standard form of the same structure costs about 1 ms, plus
``build_sets`` (20-50 ms) to know its structure. Benders (``benders.Decomposition.build``, the worker
build of :mod:`model.stochastic.parallel`) and the extensive form (:mod:`model.stochastic.ef_arrays`)
stamp by default; ``stamp=False`` builds every scenario. The
plan's re-solve of a scenario of a stamping group reads its stamped LP through the group's template
model (:mod:`model.stochastic.replan`), so no stamped scenario is ever built by Pyomo.

Math
----
A scenario's LP is ``min c^T x + k : l_r <= A x <= u_r, l_c <= x <= u_c`` (``benders.StandardForm``).
Every per-scenario data series enters it *linearly* through a few known components, each declared next
to the rule that uses it by a :class:`Stamp` in its module's ``STAMP`` tuple ("a constraint's meaning
lives in one place"): for each declared family ``d`` and key ``i`` the data give a value ``f_{d,i}``
(e.g. capacity x availability for ``SpotCapacity[o, t]``), and

- ``rhs``:  the row's bound is ``k_i + sign_d f_{d,i}`` (``k_i`` the data-independent part: constants the
  compiler moved out of the body); with ``G`` the template (first scenario of the group, compiled by
  Pyomo), ``k_i = rhs_i(G) - sign_d f_{d,i}(G)``, so ``rhs_i(s) = k_i + sign_d f_{d,i}(s)`` (exact when
  ``k_i`` = 0);
- ``coef``: the entry ``A[row of i, column of var]`` is ``r_i f_{d,i}``: ``r_i = A_i(G) / f_{d,i}(G)``
  (the sign and any factor of how the rule is written; ±1 when the declaration gives the whole product),
  ``A_i(s) = r_i f_{d,i}(s)``;
- ``cost``: the column's objective coefficient is ``k_j + sign_d f_{d,j}``, as ``rhs``.

Several ``rhs`` or ``cost`` declarations on one entry add up; two ``coef`` declarations on one entry
are refused (:class:`StampRefused`). Numbers the declarations do not cover are the template's.

Structure
---------
Two scenarios share a structure (a *group*) when their :func:`signature` is equal: a SHA-256 over

- every field of ``ModelSets`` (``model.components.sets.build_sets`` of the scenario) that decides
  columns, rows or their data-independent numbers, by value: PURCHASE, arrival_period, RESERVE, TRANCHE,
  TRANCHE_COVER, TAKE_OR_PAY, the arrival, in-transit and recovery tables, QUOTA, QUOTA_LAPSED, the stock,
  use, make and transfer keys, RECYCLE_X, exp_avail, the recipe maps, YEARS, floor_t, terminal_t; of the
  two maps whose *values* come from the scenario data and are stamped, CONTRACT_BAND (from the capacity)
  and terminal_penalty_usd_per_kg (from the dearest price), only their keys; ``rule_in_force`` not at all
  (it only feeds the sets above, and names a scenario's own added rules);
- the case without the licence rules a scenario adds (``scenario.<name>.<i>.<j>``, prohibitions: they
  act only through the sets above), so scenarios of different cases never share a group;
- the zero pattern of every declared ``coef`` and ``cost`` value: the compiler drops a zero entry, and
  a column with no entry left, so where a value is 0 the sparsity differs.

Safety: :func:`check_stamp` stamps scenarios and compiles them with Pyomo and compares the two standard
forms entry by entry (columns and rows by name, c, A's indices and values, row and column bounds, the
objective constant; numbers to 1e-12 relative). The :class:`Stamper` runs it on the second scenario of
every group before stamping any: if a declaration is missing or wrong there, the group is refused (all
its scenarios built by Pyomo) and one line says so (``Stamper.info()["note"]``, the run's timings).

Glossary
--------
Stamp            one declared family: ``component`` (the Constraint for rhs and coef, the Var for cost),
                 ``part`` (rhs | coef | cost), ``values(data, sets)`` -> iterable of (key, value) (key:
                 the constraint's index; for coef (constraint index, var index); for cost the var's
                 index), ``var`` (coef: the Var whose coefficient), ``sign`` (rhs, cost: +1 when the value
                 is written on the bound's side, or added to the cost)
declarations     every component module's STAMP, in build order
Scenario         one scenario as stamping reads it: its data, sets, declared keys and values, signature
signature        the structure hash above
Group            the scenarios of one structure: the template's StandardForm, where each declared value
                 goes in it (positions), the template's values, ``state`` (checking | stamping | refused)
StampRefused     a declaration that does not fit the compiled template (missing row, two coefficients
                 on one entry, a nonzero value without an entry, ...): the group is built by Pyomo
compare_forms    the differences between two StandardForms (empty: equal to REL_TOL)
check_stamp      (group, cases) -> differences of each case stamped against it compiled by Pyomo
Stamper          the build the Benders pools use: ``compile(d, names, rows, options)`` returns what
                 ``benders.compile_scenario`` returns (the BuiltModel None for a stamped scenario);
                 ``replan(d, first_stage, options)`` the plan's re-solve of a scenario of a stamping group from
                 its stamped LP (:mod:`model.stochastic.replan`; None: through Pyomo); ``info()`` -> groups,
                 stamped, built, replanned, note
REL_TOL          1e-12: relative tolerance of compare_forms
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

REL_TOL = 1e-12
VALUES_STAMPED = ("CONTRACT_BAND", "terminal_penalty_usd_per_kg")  # ModelSets maps: only their keys are structure
NOT_STRUCTURE = ("rule_in_force",)  # ModelSets fields that decide no column or row of their own
SCENARIO_RULE_PREFIX = "scenario."  # licence rules a scenario adds (model.input.scenarios._scenario_rule_id)


@dataclass(frozen=True)
class Stamp:
    """One family of data-dependent numbers of the compiled scenario LP (module docstring)."""

    component: str  # Constraint (rhs, coef) or Var (cost) name
    part: str  # rhs | coef | cost
    values: Callable  # (CaseData, ModelSets) -> iterable of (key, value)
    var: str | None = None  # coef: the Var whose coefficient in the constraint's row
    sign: float = 1.0  # rhs, cost: the entry moves by sign x the value


class StampRefused(ValueError):
    """A declaration does not fit the template's standard form: the group is built by Pyomo."""


def declarations() -> tuple[Stamp, ...]:
    """Every component module's STAMP, in build order."""
    from model.components import balance, build

    return tuple(s for mod in (*build.MODULES, balance) for s in getattr(mod, "STAMP", ()))


@dataclass
class Scenario:
    data: object  # CaseData
    sets: object  # ModelSets
    keys: list  # per declaration: the keys, in order
    values: list  # per declaration: float64 array of the values
    signature: str


_CASE_KEYS: dict = {}  # id(case) -> (case, its hash): scenarios without added rules share the case object


def _case_key(case) -> bytes:
    hit = _CASE_KEYS.get(id(case))
    if hit is not None and hit[0] is case:
        return hit[1]
    own = [r for r in case.licence_rules if not r.id.startswith(SCENARIO_RULE_PREFIX)]
    text = case.model_copy(update={"licence_rules": own}).model_dump_json()
    digest = hashlib.sha256(text.encode()).digest()
    if len(_CASE_KEYS) > 256:
        _CASE_KEYS.clear()
    _CASE_KEYS[id(case)] = (case, digest)
    return digest


def signature(data, sets, stamps: tuple[Stamp, ...], values: list) -> str:
    """The structure hash of one scenario (module docstring)."""
    import pandas as pd

    from model.frozen import FrozenTable

    h = hashlib.sha256(_case_key(data.case))
    for f in fields(sets):
        if f.name in NOT_STRUCTURE:
            continue
        v = getattr(sets, f.name)
        h.update(f.name.encode())
        if f.name in VALUES_STAMPED:
            h.update(repr(tuple(v)).encode())
        elif isinstance(v, FrozenTable):
            df = object.__getattribute__(v, "_df")
            h.update(repr(list(df.columns)).encode())
            h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
        else:
            h.update(repr(v).encode())
    for st, vals in zip(stamps, values):
        if st.part in ("coef", "cost"):
            h.update(np.packbits(vals != 0).tobytes())
    return h.hexdigest()


def evaluate(data) -> Scenario:
    """Scenario ``data``'s sets, declared values and signature."""
    from model.components.sets import build_sets

    sets = build_sets(data)
    stamps = declarations()
    keys, values = [], []
    for st in stamps:
        pairs = list(st.values(data, sets))
        keys.append([k for k, _ in pairs])
        values.append(np.array([float(v) for _, v in pairs], dtype=float))
    return Scenario(data, sets, keys, values, signature(data, sets, stamps, values))


def _names(f) -> tuple[list[str], list[str]]:
    return [v.name for v in f.columns], [f"{r.constraint.name}|{r.bound_type}" for r in f.rows]


@dataclass
class _Family:
    """Where one declaration's values go in the template (``sel``: the keys that have an entry)."""

    stamp: Stamp
    sel: np.ndarray  # indices into the declaration's keys
    pos: np.ndarray  # rhs: row; coef: index into A.data; cost: column
    ratio: np.ndarray | None = None  # coef: r_i


@dataclass
class Group:
    """The scenarios of one structure (module docstring)."""

    signature: str
    template: object  # benders.StandardForm of the first scenario (columns and rows as built)
    names: list  # first-stage variable names
    lb1: np.ndarray
    ub1: np.ndarray
    first_stage_keys: list  # (name, index) per first-stage variable, for the canonical weights
    col_names: list = field(default_factory=list)
    row_names: list = field(default_factory=list)
    families: list = field(default_factory=list)
    rhs_base: np.ndarray | None = None
    c_base: np.ndarray | None = None
    bound_type: np.ndarray | None = None
    members: list = field(default_factory=list)  # scenario names, in the order met
    state: str = "checking"  # checking | stamping | refused
    note: str = ""
    source: tuple | None = None  # (BuiltModel, full StandardForm) of the template, for the plan's re-solve
    plan: object = None  # replan.PlanTemplate once made; False: refused (``plan_note`` says why)
    plan_note: str = ""

    @classmethod
    def of(cls, scen: Scenario, b, f, names, lb1, ub1) -> "Group":
        from model.stochastic.benders import first_stage_keys

        g = cls(scen.signature, f, names, lb1, ub1, first_stage_keys(b), members=[scen.data.scenario], source=(b, f))
        g.col_names, g.row_names = _names(f)
        try:
            g._map(b, scen)
        except StampRefused as e:
            g.refuse(str(e))
        return g

    def plan_template(self):
        """The group's :class:`model.stochastic.replan.PlanTemplate` (made once), or None: the group does
        not stamp, or its cost terms cannot be split per scenario (``plan_note``)."""
        from model.stochastic.replan import PlanTemplate

        if self.state != "stamping" or self.plan is False or self.source is None:
            return None
        if self.plan is None:
            cost_cols = [fam.pos for fam in self.families if fam.stamp.part == "cost"]
            try:
                self.plan = PlanTemplate.build(*self.source, np.concatenate(cost_cols) if cost_cols else np.zeros(0))
            except StampRefused as e:
                self.plan, self.plan_note = False, str(e)
                return None
        return self.plan

    def check(self, scen: Scenario, f) -> None:
        """The group's second scenario ``scen``, compiled by Pyomo to ``f``, compared with its stamp: the group
        stamps from now on, or is refused (its scenarios built by Pyomo) naming the first difference."""
        self.members.append(scen.data.scenario)
        try:
            diffs = compare_forms(self.stamp(scen), f, (self.col_names, self.row_names))
        except StampRefused as e:
            diffs = [str(e)]
        if diffs:
            self.refuse(f"scenario {scen.data.scenario!r}: {diffs[0]}")
        else:
            self.state = "stamping"
            self.template = _light(self.template)

    def refuse(self, why: str) -> None:
        self.state = "refused"
        self.source = None
        self.families = []
        self.note = (f"stamping refused for the structure of scenario {self.members[0]!r} (its scenarios built by "
                     f"Pyomo): {why}")

    def _map(self, b, scen: Scenario) -> None:
        """Positions of every declared value in the template, the data-independent parts k, the ratios r."""
        f = self.template
        m = b.model
        bt = np.array([r.bound_type for r in f.rows], dtype=int)
        self.bound_type = bt
        rhs = np.where(bt <= 0, f.row_lower, f.row_upper)
        rows_of: dict = {}
        for i, r in enumerate(f.rows):
            rows_of.setdefault(id(r.constraint), []).append(i)
        col_of = {id(v): j for j, v in enumerate(f.columns)}
        A = f.A
        self.rhs_base, self.c_base = rhs.copy(), f.c.copy()
        coef_seen: set = set()
        for st, keys, vals in zip(declarations(), scen.keys, scen.values):
            comp = getattr(m, st.component, None)
            if comp is None:
                if keys:
                    raise StampRefused(f"{st.component} is declared but not in the model")
                continue
            sel, pos, ratio = [], [], []
            for n, k in enumerate(keys):
                try:
                    if st.part == "rhs":
                        rs = rows_of.get(id(comp[k]), [])
                        if len(rs) != 1:
                            raise StampRefused(f"{st.component}[{k}] has {len(rs)} rows, not 1")
                        sel.append(n)
                        pos.append(rs[0])
                    elif st.part == "cost":
                        j = col_of.get(id(comp[k]))
                        if j is None:
                            if vals[n] != 0:
                                raise StampRefused(f"{st.component}[{k}] costs {vals[n]} but is not a column")
                            continue
                        sel.append(n)
                        pos.append(j)
                    elif st.part == "coef":
                        ck, vk = k
                        rs = rows_of.get(id(comp[ck]), [])
                        j = col_of.get(id(getattr(m, st.var)[vk]))
                        p = -1
                        if len(rs) == 1 and j is not None:
                            lo, hi = A.indptr[j], A.indptr[j + 1]
                            q = lo + int(np.searchsorted(A.indices[lo:hi], rs[0]))
                            p = q if q < hi and A.indices[q] == rs[0] else -1
                        if p < 0:
                            if vals[n] != 0:
                                raise StampRefused(f"{st.component}[{ck}] has no entry for {st.var}[{vk}]")
                            continue
                        if p in coef_seen:
                            raise StampRefused(f"two coef declarations write {st.component}[{ck}], {st.var}[{vk}]")
                        coef_seen.add(p)
                        sel.append(n)
                        pos.append(p)
                        ratio.append(A.data[p] / vals[n])
                    else:
                        raise StampRefused(f"unknown part {st.part!r} of {st.component}")
                except (KeyError, IndexError, TypeError):
                    raise StampRefused(f"{st.component}: no index {k!r} in the model") from None
            sel_a, pos_a = np.array(sel, dtype=np.int64), np.array(pos, dtype=np.int64)
            if st.part == "rhs":
                np.subtract.at(self.rhs_base, pos_a, st.sign * vals[sel_a])
            elif st.part == "cost":
                np.subtract.at(self.c_base, pos_a, st.sign * vals[sel_a])
            self.families.append(_Family(st, sel_a, pos_a, np.array(ratio) if st.part == "coef" else None))

    def stamp(self, scen: Scenario):
        """Scenario ``scen``'s StandardForm written into the template's arrays (module docstring)."""
        import scipy.sparse as sp

        from model.stochastic.benders import StandardForm

        if self.state == "refused":
            raise StampRefused(self.note)
        if scen.signature != self.signature:
            raise StampRefused(f"scenario {scen.data.scenario!r} has another structure")
        f = self.template
        rhs, c = self.rhs_base.copy(), self.c_base.copy()
        data = f.A.data.copy()
        for fam, vals in zip(self.families, scen.values):
            v = vals[fam.sel]
            if fam.stamp.part == "rhs":
                np.add.at(rhs, fam.pos, fam.stamp.sign * v)
            elif fam.stamp.part == "cost":
                np.add.at(c, fam.pos, fam.stamp.sign * v)
            else:
                data[fam.pos] = fam.ratio * v
        inf = np.inf
        A = sp.csc_matrix((data, f.A.indices, f.A.indptr), shape=f.A.shape)
        return StandardForm(c=c, col_lower=f.col_lower, col_upper=f.col_upper,
                            row_lower=np.where(self.bound_type <= 0, rhs, -inf),
                            row_upper=np.where(self.bound_type >= 0, rhs, inf), A=A, offset_kusd=f.offset_kusd,
                            cols1=f.cols1, only1=f.only1, columns=f.columns, rows=f.rows)


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    same = (a == b)  # infinities included
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore"):
        return bool(np.all(same | (np.abs(a - b) <= REL_TOL * scale)))


def compare_forms(got, want, names: tuple | None = None) -> list[str]:
    """Differences between the StandardForms ``got`` and ``want`` (empty: the same LP to REL_TOL).
    ``names``: ``got``'s (column names, row names) when known (a group's), else read from ``got``."""
    out = []
    gc, gr = names if names is not None else _names(got)
    wc, wr = _names(want)
    if gc != wc:
        out.append(f"columns differ ({len(gc)} against {len(wc)})")
    if gr != wr:
        out.append(f"rows differ ({len(gr)} against {len(wr)})")
    if out:
        return out
    ga, wa = got.A, want.A
    if not (np.array_equal(ga.indptr, wa.indptr) and np.array_equal(ga.indices, wa.indices)):
        out.append("the matrix's sparsity differs")
    elif not _close(ga.data, wa.data):
        k = int(np.argmax(np.abs(ga.data - wa.data)))
        j = int(np.searchsorted(ga.indptr, k, side="right") - 1)
        out.append(f"matrix entry (row {wr[ga.indices[k]]}, column {wc[j]}): {ga.data[k]!r} against {wa.data[k]!r}")
    for what, x, y, labels in (("objective coefficient", got.c, want.c, wc), ("column lower bound", got.col_lower,
                               want.col_lower, wc), ("column upper bound", got.col_upper, want.col_upper, wc),
                               ("row lower side", got.row_lower, want.row_lower, wr),
                               ("row upper side", got.row_upper, want.row_upper, wr)):
        if not _close(x, y):
            with np.errstate(invalid="ignore"):
                bad = np.nonzero(~((x == y) | (np.abs(x - y) <= REL_TOL * np.maximum(np.abs(x), np.abs(y)))))[0]
            out.append(f"{what} of {labels[bad[0]]}: {x[bad[0]]!r} against {y[bad[0]]!r} ({len(bad)} differ)")
    if not _close([got.offset_kusd], [want.offset_kusd]):
        out.append(f"objective constant: {got.offset_kusd!r} against {want.offset_kusd!r}")
    if not np.array_equal(got.cols1, want.cols1):
        out.append("first-stage columns differ")
    return out


def check_stamp(group: Group, cases) -> list[str]:
    """Each of ``cases`` stamped from ``group`` and built and compiled by Pyomo, compared entry by entry
    (:func:`compare_forms`): the differences, each prefixed by its scenario (empty: every one equal)."""
    from model.components.build import build_scenario_model
    from model.stochastic.benders import standard_form

    out = []
    for d in cases:
        scen = evaluate(d)
        try:
            got = group.stamp(scen)
        except StampRefused as e:
            out.append(f"{d.scenario}: {e}")
            continue
        want = standard_form(build_scenario_model(d, name=d.scenario))
        out += [f"{d.scenario}: {x}" for x in compare_forms(got, want, (group.col_names, group.row_names))]
    return out


class Stamper:
    """The scenario build of a Benders pool: Pyomo for the first two scenarios of each structure (the
    second checked against its stamp), stamping for the rest (module docstring). ``enabled`` False:
    Pyomo for every scenario (``benders.compile_scenario``)."""

    def __init__(self, enabled: bool = True):
        self.enabled = bool(enabled)
        self.groups: dict[str, Group] = {}
        self.stamped = 0
        self.built = 0
        self.seconds = 0.0
        self.declared: dict = {}  # scenario name -> (signature, declared values), for the plan's re-solve
        self.keep_highs = True  # False: no persistent HiGHS per scenario (benders.KEEP_SUBPROBLEMS_UP_TO)
        self.replanned = 0  # scenarios whose plan was re-solved from their stamped LP

    def compile(self, d, names_ref, rows, options):
        """What ``benders.compile_scenario(d, names_ref, rows, options)`` returns; the BuiltModel is None
        when ``d`` was stamped."""
        from model.stochastic import benders as B

        if not self.enabled:
            self.built += 1
            return B.compile_built(d, names_ref, rows, options, keep_highs=self.keep_highs)[:6]
        scen = evaluate(d)
        self.declared[d.scenario] = (scen.signature, scen.values)
        g = self.groups.get(scen.signature)
        if g is None or g.state != "stamping":
            out = B.compile_built(d, names_ref, rows, options, sets=scen.sets, keep_highs=self.keep_highs)
            self.built += 1
            sub, names, lb1, ub1, _, b, f = out
            if g is None:
                self.groups[scen.signature] = Group.of(scen, b, f, names, lb1, ub1)
            elif g.state == "checking":
                g.check(scen, f)
            else:
                g.members.append(d.scenario)
            return out[:6]
        if names_ref is not None and g.names != names_ref:
            raise ValueError(f"scenario {d.scenario!r} has different first-stage variables from the first scenario")
        g.members.append(d.scenario)
        if self.keep_highs:
            sub = B.scenario_lp(d, g.stamp(scen), rows, options)
        else:  # stamped again for each solve from the declared values
            light = Scenario(d, None, None, scen.values, scen.signature)
            sub = B.scenario_lp(d, g.stamp(scen), rows, options, form=lambda: g.stamp(light))
        self.stamped += 1
        return (sub, list(g.names), g.lb1.copy(), g.ub1.copy(),
                B.first_stage_weights_of(g.first_stage_keys, d, d.probability), None)

    def replan(self, d, first_stage: dict, options):
        """Scenario ``d`` re-solved with ``first_stage`` (by name) held, from its stamped LP and its group's
        template model (:mod:`model.stochastic.replan`): (total kUSD, Solution, SolveResult, first-stage
        cost kUSD), or None when it has to go through Pyomo (not stamped here, its group not stamping)."""
        rec = self.declared.get(d.scenario)
        g = None if rec is None else self.groups.get(rec[0])
        plan = None if g is None else g.plan_template()
        if plan is None:
            return None
        f = g.stamp(Scenario(d, None, None, rec[1], rec[0]))
        out = plan.replan(d, f, np.array([first_stage[n] for n in g.names], dtype=float), options)
        if out is not None:
            self.replanned += 1
        return out

    def info(self) -> dict:
        """groups, stamped and built scenario counts, and the one-line note of any refused group."""
        notes = [g.note for g in self.groups.values() if g.state == "refused"]
        notes += [f"plan re-solved through Pyomo for the structure of {g.members[0]!r}: {g.plan_note}"
                  for g in self.groups.values() if g.plan is False]
        note = "" if not notes else (notes[0] + ("" if len(notes) == 1 else f" (and {len(notes) - 1} more)"))
        return {"groups": len(self.groups), "stamped": self.stamped, "built": self.built, "replanned": self.replanned,
                "note": note if self.enabled else "stamping off: every scenario built by Pyomo"}


def _light(f):
    """The template without its Pyomo objects (columns and rows: the group keeps their names), so a
    stamping group does not hold the first scenario's model alive."""
    from dataclasses import replace

    return replace(f, columns=[], rows=[])


def merge_info(infos: list[dict]) -> dict:
    """The :meth:`Stamper.info` of several pools' stampers (the workers) as one."""
    notes = list(dict.fromkeys(i["note"] for i in infos if i.get("note")))
    return {"groups": sum(i["groups"] for i in infos), "stamped": sum(i["stamped"] for i in infos),
            "built": sum(i["built"] for i in infos), "replanned": sum(i.get("replanned", 0) for i in infos),
            "note": "; ".join(notes)}


def group_cases(cases) -> list[tuple[Group, list]]:
    """``cases`` grouped by structure, in the order first met: (Group with its template compiled by Pyomo
    from the group's first case, the group's cases). No HiGHS is made (for :func:`check_stamp`)."""
    from model.components.build import build_scenario_model
    from model.stochastic.benders import first_stage_bounds, standard_form

    out: dict[str, tuple[Group, list]] = {}
    for d in cases:
        scen = evaluate(d)
        if scen.signature not in out:
            b = build_scenario_model(d, sets=scen.sets, name=d.scenario)
            lb1, ub1 = first_stage_bounds(b)
            g = Group.of(scen, b, standard_form(b), [v.getname(fully_qualified=False) for v in b.first_stage_vars],
                         lb1, ub1)
            out[scen.signature] = (g, [])
        else:
            out[scen.signature][0].members.append(d.scenario)
        out[scen.signature][1].append(d)
    return list(out.values())
