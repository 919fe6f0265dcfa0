#!/usr/bin/env bash
# The targeting backtest on the Camden sample, as in the README: fit on London Fire Brigade
# dwelling fires 2009-2019, test on 2020-2024; the capture curve goes to docs/ and the
# figures into the README (make backtest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
S=resources/sample_data/camden
W=build/backtest
CS=.venv/bin/community-safety
"$CS" segment "$S/camden.toml" --out "$W/camden" --no-plots >/dev/null
G="$W/camden/segmentation.gpkg"
"$CS" gazetteer "$G" "$S/postcodes.csv" --id Postcode --x Eastings --y Northings >/dev/null
"$CS" matrices "$G" --wards "$S/wards_2022.gpkg" --ward-code WD22CD --ward-name WD22NM >/dev/null
# = target "$G" --out "$W/backtest" --backtest --cut-off 2019-12-31 --incidents
#   "$S/lfb_dwelling_fires.csv" --x easting_rounded --y northing_rounded --date-column date,
# and the README's figures (between its backtest markers) from its full-precision result
.venv/bin/python scripts/readme_backtest.py "$G" --out "$W/backtest" --readme README.md \
    --docs docs
