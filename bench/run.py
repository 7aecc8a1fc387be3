"""`make bench`: the list pages beside Wagtail's stock user listing (bench/lists.py), the
grant pages and the applicant's draft save at 5,000 proposals beside the same yardstick
(bench/grants.py), the review ranking of 1,000 × 7 × 6 scores (bench/ranking.py), the review
screens on a call of ~5,000 proposals × 5 reviewers beside the yardstick, with storing its
ranking and writing its workbook (bench/review.py), and with `--import` also the 10,000-row
Excel import (bench/import_orgs.py). Each script builds its own throwaway database (ranking.py
needs none). Exits non-zero when a target is missed."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = ["lists.py", "grants.py", "ranking.py", "review.py"]
    scripts += ["import_orgs.py"] if "--import" in sys.argv[1:] else []
    status = 0
    for script in scripts:
        print(f"== bench/{script}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script)], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
