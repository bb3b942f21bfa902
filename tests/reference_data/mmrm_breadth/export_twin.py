"""Write the frame the MMRM of VAS change reads on the shipped twin (MITT, observed records) as
CSV for ``twin_reference.R``: ``python export_twin.py OUT.csv``."""

import sys

from respine import Selection, load_trial
from respine.analyses import repeated

data, column = repeated._mmrm_frame(load_trial(), Selection("VAS", 12.0, method="mmrm"))
data[["subject_id", "arm", "visit_month", column, "base"]].to_csv(sys.argv[1], index=False)
