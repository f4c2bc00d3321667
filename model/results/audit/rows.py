"""Reading the plan tables row by row, for one scenario at a time.

A :class:`Table` is one reported table (all scenarios stacked, with ``scenario`` and ``probability``
columns in a stochastic run) with its columns converted once to arrays; a :class:`View` is the part of
it that belongs to one scenario. :class:`RowReader` is the one place a row is read: it checks the
row's ids against the sets the inputs know, maps its period label to the period number 1..T, and
records every row it has to skip under ``table_integrity``:

- an id the inputs do not know: ``table <name>: unknown <what> <id>``;
- a period label outside the horizon: ``table <name>: period <label> outside the horizon``.

Skipped rows take part in no other check.
"""

from __future__ import annotations

import pandas as pd

from .checks import Acc


class Table:
    """A stacked table with its columns as arrays (converted once) and its row positions per scenario."""

    def __init__(self, df: pd.DataFrame, stochastic: bool):
        self.df = df
        self._arrays: dict = {}
        self.by_scenario = ({k: v for k, v in df.groupby("scenario", sort=False).indices.items()}
                            if stochastic and len(df) else {})

    def column(self, c: str):
        a = self._arrays.get(c)
        if a is None:
            a = self._arrays[c] = self.df[c].to_numpy()
        return a

    def view(self, scenario: str | None) -> "View":
        return View(self, None if scenario is None else self.by_scenario.get(scenario, ()))


class View:
    def __init__(self, table: Table, idx):
        self.table, self.idx = table, idx

    def rows(self, cols) -> zip:
        if self.idx is None:
            return zip(*(self.table.column(c).tolist() for c in cols))
        if len(self.idx) == 0:
            return zip(*([] for _ in cols))
        return zip(*(self.table.column(c)[self.idx].tolist() for c in cols))


class RowReader:
    """The rows of one scenario's tables, id-checked and with their periods as numbers."""

    def __init__(self, views: dict[str, View], t_of: dict, integrity: Acc, scen: str):
        self.views, self.t_of, self.integrity, self.scen = views, t_of, integrity, scen

    def problem(self, where) -> None:
        """Record one table-integrity problem; ``where()`` is its text after the scenario prefix."""
        scen = self.scen
        self.integrity.add(1, 0.0, lambda: f"{scen}{where()}")

    def unknown(self, tname: str, what: str, x) -> None:
        self.problem(lambda: f"table {tname}: unknown {what} {x!r}")

    def read(self, tname: str, cols: tuple, ids: tuple = (), period: str | None = None):
        """Yield ``(t, row)`` for each row of ``tname`` (``row`` the values of ``cols``) whose ids are known.

        ``ids`` are ``(column, what, known)``: a row whose ``column`` is not in ``known`` is reported as an
        unknown ``what`` and skipped (the first unknown id only). ``period`` names the period column: a row
        whose label is outside the horizon is reported and skipped; ``t`` is None without a period column.
        """
        checks = tuple((cols.index(c), what, known) for c, what, known in ids)
        p = cols.index(period) if period is not None else None
        t_of = self.t_of
        t = None
        for row in self.views[tname].rows(cols):
            for i, what, known in checks:
                if row[i] not in known:
                    self.unknown(tname, what, row[i])
                    break
            else:
                if p is not None:
                    label = row[p]
                    t = t_of.get(label)
                    if t is None:
                        self.problem(lambda: f"table {tname}: period {label!r} outside the horizon")
                        continue
                yield t, row
