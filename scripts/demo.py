"""`make demo`: the main job on the embedded defaults.

Generates a province-sized synthetic input (100,000 accounts), runs 2020-01-01 to 2020-03-31
with the 2020 epidemic relief policies, prints the regulator summary the way the February 2020
report told it, and says where the output files are and what to try next.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANBUTING = str(Path(sys.executable).with_name("sanbuting"))
ACCOUNTS = os.environ.get("DEMO_ACCOUNTS", "100000")
OUT = ROOT / "demo-out"
POLICIES = "examples/policies/2020-epidemic.yaml"


def step(title: str, *args: str) -> None:
    print(f"\n\033[1m== {title}\033[0m\n$ sanbuting {' '.join(args)}", flush=True)
    began = time.perf_counter()
    subprocess.run([SANBUTING, *args], check=True, cwd=ROOT)
    print(f"({time.perf_counter() - began:.1f} s)", flush=True)


def main() -> None:
    print("三不停 sanbuting demo: a province through the first quarter of 2020")
    data, run = OUT / "data", OUT / "run-2020q1"
    step(
        f"Generate {int(ACCOUNTS):,} synthetic accounts (power, telecom, gas)",
        "generate",
        "--accounts",
        ACCOUNTS,
        "--seed",
        "2020",
        "--out",
        str(data.relative_to(ROOT)),
    )
    step("Check the 2020 relief policies", "check-policies", POLICIES)
    step(
        "Simulate 2020-01-01 to 2020-03-31 with the 2020 policies",
        "run",
        "--data",
        str(data.relative_to(ROOT)),
        "--policies",
        POLICIES,
        "--start",
        "2020-01-01",
        "--end",
        "2020-03-31",
        "--out",
        str(run.relative_to(ROOT)),
    )
    step(
        "The regulator summary (人次 and 戶, as the 2020 report counted)",
        "report",
        str(run.relative_to(ROOT)),
    )
    rel = run.relative_to(ROOT)
    print(f"""
Output files in {rel}/:
  actions.csv      every reminder, notice, suspension, cut-off, reconnection, 保電 order
  protections.csv  every enforcement a policy prevented (exempt) or moved (defer)
  late_fees.csv    each bill's late fee: accrued, waived, charged, days
  states.csv       each account's state, balance and arrears on 2020-03-31
  summary.json     the counts above, with the inputs' and policies' hashes
Next:
  .venv/bin/sanbuting explain --data {data.relative_to(ROOT)} --policies {POLICIES} \\
      --account $(sed -n 2p {rel}/protections.csv | cut -d, -f2) --start 2020-01-01 --end 2020-03-31
  .venv/bin/sanbuting fee --ruleset cn-power-1996 --class non_residential --amount 2000 \\
      --due 2000-12-15 --paid 2001-01-18
  .venv/bin/sanbuting --help""")


if __name__ == "__main__":
    main()
