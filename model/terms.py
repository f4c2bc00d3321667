"""Cost-term names: the one place they are spelled.

Component modules register their cost expressions under these names
(``reg.add_cost(terms.PURCHASES, "second", ...)``, see :mod:`model.components.registry`); results
and reports select terms by them (the ``costs`` table's ``term`` column, ``cost_parts_usd`` in the
KPIs). :data:`COST_TERMS` says what each term is; ``tests/test_catalogue.py`` checks that every
term the built model registers is listed here, with the same stage and expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PURCHASES = "purchases"
RESERVATION_FEES = "reservation_fees"
TAKE_OR_PAY = "take_or_pay"
CONVERSION = "conversion"
SHORTAGE_PENALTY = "shortage_penalty"
HOLDING = "holding"
FLOOR_PENALTY = "floor_penalty"
TERMINAL_PENALTY = "terminal_penalty"
RECYCLING = "recycling"
SWARF_CREDIT = "swarf_credit"
CAPACITY_EXPANSION = "capacity_expansion"
MAGNET_HOLDING = "magnet_holding"
TRANSFER = "transfer"


@dataclass(frozen=True)
class CostTermInfo:
    name: str  # the registry name (one of the constants above)
    stage: Literal["first", "second"]
    expression: str  # the scalar Pyomo Expression component registered under this name
    what: str  # what the term is, in input terms
    unit: str = "kUSD"  # every cost expression is in thousand USD (reports convert to USD)
    # True: a term only some cases can incur; a case that cannot (its expression has no variable) reports
    # no row or KPI for it, so the outputs of a case without it are what they were before the term existed
    optional: bool = False


COST_TERMS = (  # in the order the component modules register them
    CostTermInfo(PURCHASES, "second", "PurchaseCost_kusd", "material and finished magnets bought, at the order period's price"),
    CostTermInfo(RESERVATION_FEES, "first", "ReservationFee_kusd", "contract reservation fees, paid on the whole reservation"),
    CostTermInfo(TAKE_OR_PAY, "second", "TakeOrPayCost_kusd",
                 "take-or-pay: the reserved volume a contract's terms make the buyer pay for but not take, at the order period's price",
                 optional=True),
    CostTermInfo(CONVERSION, "second", "ConversionCost_kusd", "plant conversion cost of magnets made"),
    CostTermInfo(MAGNET_HOLDING, "second", "MagnetHoldingCost_kusd", "holding cost of end-of-period finished-magnet stock",
                 optional=True),
    CostTermInfo(SHORTAGE_PENALTY, "second", "ShortageCost_kusd", "penalty on unmet demand"),
    CostTermInfo(HOLDING, "second", "HoldingCost_kusd", "holding cost of end-of-period stock"),
    CostTermInfo(FLOOR_PENALTY, "second", "FloorPenalty_kusd", "penalty on stock below the strategic floor"),
    CostTermInfo(TERMINAL_PENALTY, "second", "TerminalPenalty_kusd", "penalty on stock below the terminal requirement"),
    CostTermInfo(RECYCLING, "second", "RecyclingCost_kusd", "recycling cost of feed processed"),
    CostTermInfo(SWARF_CREDIT, "second", "SwarfCredit_kusd", "credit (negative) for swarf sold rather than recycled"),
    CostTermInfo(CAPACITY_EXPANSION, "first", "ExpansionCost_kusd", "recycling capacity expansion built"),
    CostTermInfo(TRANSFER, "second", "TransferCost_kusd", "element stock and finished magnets moved between plants",
                 optional=True),
)
BY_NAME = {t.name: t for t in COST_TERMS}

PENALTY_TERMS = (SHORTAGE_PENALTY, FLOOR_PENALTY, TERMINAL_PENALTY)  # penalties, not supply costs
FIRST_STAGE_TERMS = tuple(t.name for t in COST_TERMS if t.stage == "first")
