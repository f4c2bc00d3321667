"""A short YAML example for each section of ``docs/inputs.md``: data only, printed by :mod:`model.input.docgen`.

``EXAMPLES`` maps a schema class name (a section heading of the input reference) to YAML text. An example is
what a planner writes at that place in a case file: a mapping of the section's fields, or a YAML list of
entries for a section that is a list (``offers``, ``grades[].recipes``, ...). ``PLACES`` says where in a case
the text goes. The example of ``CaseInput`` is a complete, minimal case. ``tests/test_tutorial.py`` parses every
example with ``yaml.safe_load`` and validates it against its class (list entries one by one), and reads the
``CaseInput`` example as a whole case. Figures are illustrative (``EST``) unless a source code says otherwise.
"""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "CaseInput": """\
# The smallest useful case: one civil SH stream made from two allied oxides (illustrative figures).
name: minimal
description: One civil stream, two allied oxide offers, 12 months (illustrative figures).
horizon: {start_month: "2027-01", periods: 12}
elements: [NdPr, Dy]
origin_groups:
  - id: allied
end_uses: [civil]
materials:
  - {id: ndpr_oxide, kind: oxide, element_content_frac: {NdPr: 0.85}}
  - {id: dy_oxide, kind: oxide, element_content_frac: {Dy: 0.871}}
offers:
  - {id: ndpr_spot, supplier: Allied trader, country: MY, origin_group: allied, material: ndpr_oxide,
     kind: spot, capacity_t_per_period: 10, price_usd_per_kg: 66, source: EST}
  - {id: dy_spot, supplier: Allied trader, country: MY, origin_group: allied, material: dy_oxide,
     kind: spot, capacity_t_per_period: 1, price_usd_per_kg: 800, source: EST}
grades:
  - id: SH
    recipes:
      - {id: SH_dy_bulk, element_t_per_t_magnet: {NdPr: 0.275, Dy: 0.0325}}
plant: {capacity_t_per_period: 20, yield_frac: 0.72}
streams:
  - {id: motors, grade: SH, end_use: civil, demand_t_per_period: 10, shortage_cost_usd_per_kg: 300}
""",
    "Horizon": """\
start_month: "2027-01"   # quote months: period 1 is January 2027
periods: 36              # 36 periods ...
months_per_period: 1     # ... of one month each
""",
    "OriginGroup": """\
- id: CN
  description: China origin (export licences)
- id: allied
  description: Japan, Estonia, Malaysia (no licence)
- id: recycled           # name it in a recycling route's output_origin_group
  description: Recovered from our own swarf
""",
    "Material": """\
- id: dy_oxide
  kind: oxide
  element_content_frac: {Dy: 0.871}   # Dy2O3, from molar masses
- id: tb_metal
  kind: metal
  element_content_frac: {Tb: 0.995}
- id: magnet_uh          # a finished magnet: no element content, a grade instead
  kind: magnet
  grade: UH
""",
    "Offer": """\
- id: ee_ndpr_oxide_contract
  supplier: Neo Performance Materials (Sillamae)
  country: EE
  origin_group: allied
  material: ndpr_oxide
  kind: contract                 # reserve first (same in every scenario), then buy within the reservation
  capacity_t_per_period: 6
  price_usd_per_kg: 66
  reservation_fee_usd_per_kg: 2  # paid on the whole reservation, bought or not
  min_take_frac: 0.8             # buy at least 80 % of the available reservation each period
  lead_time_periods: 1
  source: EST
- id: cn_dy_oxide_spot
  supplier: CN traders
  country: CN
  origin_group: CN
  material: dy_oxide
  kind: spot                     # buy up to capacity each period, no reservation
  capacity_t_per_period: 1
  price_usd_per_kg: 239          # or leave blank and give a price CSV column named cn_dy_oxide_spot
  lead_time_periods: 1
  source: "[U26]"
""",
    "ContractTerms": """\
min_term_periods: 6      # the reservation is made of tranches of 6 to 12 months, each a flat volume
max_term_periods: 12
max_change_t_per_period: 1.0   # and it moves by at most 1 t/period from one month to the next
take_or_pay_frac: 0.5    # pay for the part of 50 % of the reservation not taken
notice_periods: 2        # no new volume in the first 2 periods
""",
    "LicenceRule": """\
- id: cn_defence_prohibited
  origin_groups: [CN]
  materials: [dy_oxide, tb_oxide, magnet_uh]
  end_uses: [defence]
  regime: prohibited             # China-origin Dy, Tb and UH magnets may not serve the defence end use
- id: cn_dy_oxide_civil
  origin_groups: [CN]
  materials: [dy_oxide]
  end_uses: [civil]
  regime: case_by_case
  quota_t_per_period: 0.4        # t of Dy oxide orderable per period, all covered offers together
  approval_frac: 0.6             # expected share of the quota approved
  review_lead_time_periods: 2    # added to the offer's lead time
- id: jl_mag_general_2026        # a one-year general licence granted to a named exporter for named customers
  origin_groups: [CN]
  materials: [magnet_uh]
  end_uses: [civil]
  regime: general                # no review lead time: it replaces the blanket rules for JL Mag's offers
  suppliers: [JL Mag]            # covers only offers whose supplier is JL Mag
  customers: [acme_de, acme_pl]  # admits the company only if company.customer_id is one of these
  quota_t_per_period: 2
  renewal: {every_periods: 12, first_due: "2027-12"}   # renewed each year unless a scenario refuses it
  source: EST
- id: cn_dual_use_japan_military # a prohibition for one destination country
  origin_groups: [CN]
  materials: [dy_oxide, tb_oxide]
  end_uses: [defence]
  regime: prohibited
  destination_countries: [JP]    # applies at plants with country JP (plants[].country); blank: everywhere
""",
    "LicenceRenewal": """\
every_periods: 12        # a one-year licence in monthly periods
first_due: "2027-12"     # first month of the new term (blank: valid_from + every_periods)
renewed: true            # false: it lapses at the first due date (quota 0 from then on)
""",
    "Company": """\
customer_id: acme_de       # how licences' `customers` lists name this company
validated_end_user: false  # a rule with validated_end_users_only admits only validated end users
""",
    "Grade": """\
- id: UH
  reference_recipe: UH_dy_bulk   # a months-of-use stockpile floor counts by this recipe
  recipes:
    - id: UH_dy_bulk
      element_t_per_t_magnet: {NdPr: 0.255, Dy: 0.050}
    - id: UH_tb_gbd
      element_t_per_t_magnet: {NdPr: 0.255, Tb: 0.020}
""",
    "Recipe": """\
- id: EH_tb_gbd                  # an entry of a grade's `recipes`
  element_t_per_t_magnet: {NdPr: 0.240, Tb: 0.030}   # t of element in 1 t of finished magnet
  source: EST
""",
    "Plant": """\
# A case with several plants lists them under `plants:`, each with an id; a one-plant case writes one
# such mapping under `plant:` and may leave out id, country and grades (its id is then `plant`).
- id: us                         # what the `plant` fields of streams, offers, stockpile, routes name
  country: US                    # licence rules with destination_countries select plants by it
  grades: [UH, EH]               # the grades made here (blank: all)
  capacity_t_per_period: 10      # t of magnet per period (blank: capacity CSV column `us`)
  yield_frac: 0.72               # t of magnet per t of alloy; 0.28 t of swarf per t of alloy
  conversion_cost_usd_per_kg: 25
  swarf_credit_usd_per_kg: 15    # earned on swarf sold instead of recycled
- id: jp
  country: JP
  grades: [SH]
  capacity_t_per_period: 5
  yield_frac: 0.72
  conversion_cost_usd_per_kg: 20
""",
    "Stream": """\
- id: defence_uh
  grade: UH
  end_use: defence
  demand_t_per_period: 4         # or blank, with a demand CSV column named defence_uh
  shortage_cost_usd_per_kg: 2000
- id: civil_uh
  grade: UH
  end_use: civil
  demand_t_per_period: 8
  shortage_cost_usd_per_kg: 300
  min_service_frac: 0.5          # hard: at least half of demand met every period
""",
    "StockpileElement": """\
- element: Dy
  initial_t_by_origin: {CN: 0.8, allied: 2.2}   # origin matters: CN stock cannot serve a prohibited end use
  capacity_t: 6
  holding_cost_usd_per_kg_per_period: 7.65
  floor_months_of_use: 3         # 3 months of average use under each grade's reference recipe
  floor_penalty_usd_per_kg: 90   # per kg below the floor, per period
- element: Tb
  initial_t_by_origin: {allied: 0.3}
  capacity_t: 1.5
  floor_t: 0.3                   # or a floor in tonnes
  floor_hard: true               # never below it (may make the case infeasible)
  terminal_min_t: 0.3            # stock wanted at the horizon end (blank: the initial stock)
""",
    "MagnetStock": """\
- grade: UH                      # finished UH magnets, kept by material and origin group
  capacity_t: 8                  # t of magnet at the end of any period, all origins together
  holding_cost_usd_per_kg_per_period: 0.5
  initial_t_by_origin: {allied: 2, CN: 1}   # CN magnets held still cannot serve a prohibited end use
""",
    "Transfer": """\
- id: us_to_jp                   # a lane: element stock and finished magnets move from us to jp
  from_plant: us
  to_plant: jp
  lead_time_periods: 1           # what leaves in a period arrives one period later
  cost_usd_per_kg: 3             # per kg moved (element content, or finished magnet)
  capacity_t_per_period: 2       # elements and magnets together (blank: no limit)
  source: EST
- id: jp_to_us
  from_plant: jp
  to_plant: us
  lead_time_periods: 1
  cost_usd_per_kg: 3
""",
    "InTransit": """\
- offer: cn_dy_oxide_spot        # ordered (and licensed, and paid) before the horizon
  arrival_period: "2027-02"      # arrives in period 2
  quantity_t: 0.5                # t of the offer's material
- offer: jp_uh_magnet_spot
  arrival_period: "2027-01"
  quantity_t: 1.5
""",
    "RecyclingRoute": """\
- id: swarf_loop
  feed: swarf                    # the plant's own swarf (or a material of kind scrap)
  grades: [UH, EH]               # only these grades' swarf
  capacity_t_feed_per_period: 3
  cost_usd_per_kg_feed: 15
  recovery_frac: {NdPr: 0.9, Dy: 0.9, Tb: 0.9}
  output_origin_group: recycled  # must be one of origin_groups
  country: DE
  expansion:
    cost_usd_per_t_per_period: 300000
    build_lead_time_periods: 6
    max_t_per_period: 3
""",
    "CapacityExpansion": """\
cost_usd_per_t_per_period: 300000   # one-off, per t/period of feed capacity added (the horizon's share)
build_lead_time_periods: 6          # usable from period 7
max_t_per_period: 3
""",
    "DiversificationLimit": """\
- id: max_cn_share
  group_by: country
  value: CN
  max_share_frac: 0.65           # at most 65 % of each calendar year's supply from China
  basis: supply                  # purchases plus recycled output; blank element: all elements together
- id: max_cn_share_dy
  element: Dy
  group_by: origin_group
  value: CN
  max_share_frac: 0.5
""",
    "Risk": """\
cvar_alpha: 0.9                  # CVaR = mean cost of the worst 10 % of probability
risk_weight_lambda: 0.5          # objective = expected cost + 0.5 x CVaR (0: risk neutral)
non_anticipative_periods: 1      # period 1 is decided before the scenario is known
""",
    "Finance": """\
discount_rate_frac_per_year: 0.08   # 8 %/yr for the present value in the finance outputs (the plan is unchanged)
base_year: 2027                     # present value at 1 January 2027
""",
    "TimeSeriesFiles": """\
demand: defence/demand.csv       # relative to the case file
price: defence/prices.csv
capacity: defence/capacity.csv
""",
    "Scenarios": """\
mode: listed
listed:
  - name: status_quo
    probability: 0.8
  - name: cn_embargo
    probability: 0.2
    effects:
      - kind: availability
        select: {origin_groups: [CN]}   # every offer of origin group CN
        factor: 0
        start: "2027-07"
        periods: 12
""",
    "ScenarioFactor": """\
- name: policy                   # mode product: every combination of one option per factor
  options:
    - {name: status_quo, probability: 0.7}
    - name: tightening
      probability: 0.3
      effects:
        - {kind: quota, select: {licence_rules: [cn_dy_oxide_civil]}, factor: 0.5, start: "2027-04"}
- name: outage
  options:
    - {name: no_outage, probability: 0.9}
    - name: japan_outage
      probability: 0.1
      effects:
        - {kind: availability, select: {countries: [JP]}, factor: 0.5, start: "2027-10", periods: 6}
""",
    "ScenarioOption": """\
- name: defence_surge
  probability: 0.1
  description: defence demand +50 % from 2028
  effects:
    - kind: demand
      select: {streams: [defence_eh, defence_uh]}
      factor: 1.5
      start: "2028-01"           # no `periods`: to the horizon end
""",
    "Effect": """\
- kind: approval                 # case-by-case rules covering CN Dy or Tb oxide: approval 0.2
  select: {origin_groups: [CN], materials: [dy_oxide, tb_oxide]}
  approval_frac: 0.2
  start: "2027-04"
  periods: 18
- kind: prohibit_end_uses        # a new prohibition for the window
  select: {origin_groups: [CN], materials: [ndpr_oxide]}
  end_uses: [defence]
  start: "2027-04"
- kind: renewal                  # the first renewal of JL Mag's general licence due from 2027-10 is refused
  select: {licence_rules: [jl_mag_general_2026]}
  start: "2027-10"
- kind: admit                    # the defence prohibition is lifted for 6 periods
  select: {licence_rules: [cn_defence_prohibited]}
  start: "2028-01"
  periods: 6
- kind: review_lead              # case-by-case reviews take 4 periods from 2027-07
  select: {licence_rules: [cn_dy_oxide_civil]}
  review_lead_time_periods: 4
  start: "2027-07"
- kind: price                    # sampling: start drawn in 2027-04..2027-12, length in 6..12
  select: {suppliers: [Japanese metal refiner]}
  factor: 1.2
  start: "2027-04"
  start_latest: "2027-12"
  periods: 6
  periods_max: 12
""",
    "Selection": """\
# the value of an effect's `select`; this block form is the same as
# select: {origin_groups: [CN], materials: [dy_oxide, tb_oxide]}
origin_groups: [CN]              # AND between keys ...
materials: [dy_oxide, tb_oxide]  # ... OR within a list
""",
}

PLACES: dict[str, str] = {
    "CaseInput": "a whole case file",
    "Horizon": "under `horizon:`",
    "OriginGroup": "under `origin_groups:`",
    "Material": "under `materials:`",
    "Offer": "under `offers:`",
    "ContractTerms": "under `terms:` of a contract offer",
    "LicenceRule": "under `licence_rules:`",
    "Grade": "under `grades:`",
    "Recipe": "under `recipes:` of a grade",
    "Plant": "under `plants:`; one plant: a single mapping under `plant:`",
    "Transfer": "under `transfers:`",
    "Stream": "under `streams:`",
    "StockpileElement": "under `stockpile:`",
    "MagnetStock": "under `magnet_stock:`",
    "InTransit": "under `in_transit:`",
    "LicenceRenewal": "under `renewal:` of a licence rule",
    "Company": "under `company:`",
    "RecyclingRoute": "under `recycling_routes:`",
    "CapacityExpansion": "under `expansion:` of a recycling route",
    "DiversificationLimit": "under `diversification_limits:`",
    "Risk": "under `risk:`",
    "Finance": "under `finance:`",
    "TimeSeriesFiles": "under `timeseries:`",
    "Scenarios": "under `scenarios:`",
    "ScenarioFactor": "under `scenarios.factors:` (mode `product` or `sample`)",
    "ScenarioOption": "under `scenarios.listed:`, or under `options:` of a factor",
    "Effect": "under `effects:` of a scenario or option",
    "Selection": "under `select:` of an effect",
}


def example_lines(section: str) -> list[str]:
    """The Markdown lines of ``section``'s example (a label and a fenced YAML block), or none."""
    text = EXAMPLES.get(section)
    if text is None:
        return []
    return [f"Example ({PLACES[section]}):", "", "```yaml", text.rstrip("\n"), "```", ""]
