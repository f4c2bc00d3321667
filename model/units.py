"""Named unit conversions, so that a bare ``1000`` never has to be read for its meaning.

The model's quantities are masses in t and money in kUSD (thousand USD); inputs give prices in
USD/kg, so ``price_usd_per_kg * t`` is kUSD exactly (1 t = 1000 kg, 1 kUSD = 1000 USD) and the LP
needs no conversion factor. Reports are in USD (and USD/t, USD/kg), hence these constants.
"""

from __future__ import annotations

USD_PER_KUSD = 1000.0  # USD per kUSD (the model's money unit is thousand USD)
KG_PER_T = 1000.0  # kg per t (masses in the model are in t; prices in the inputs are per kg)
