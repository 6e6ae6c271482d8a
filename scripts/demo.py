"""`make demo`: the main job on the embedded defaults.

Generates a province-sized synthetic input (100,000 accounts), runs 2020-01-01 to 2020-03-31
with the 2020 epidemic relief policies, prints the regulator summary the way the February 2020
report told it, writes its roll-up as a workbook and one HTML page, and says where the output
files are and what to try next. Then it builds a store of a few thousand accounts in three
companies (imported, run through the business day, staff created) and serves the customer
portal, the staff console and the API on 127.0.0.1 with the demo sign-ins printed. It ends by
pointing at the HTML report it wrote (again when the server stops).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sanbuting.domain import format_yuan
from sanbuting.jobs.demo import DEMO_PASSWORD, seed_demo

ROOT = Path(__file__).resolve().parent.parent
SANBUTING = str(Path(sys.executable).with_name("sanbuting"))
ACCOUNTS = os.environ.get("DEMO_ACCOUNTS", "100000")
OUT = ROOT / "demo-out"
POLICIES = "examples/policies/2020-epidemic.yaml"
STORE_ACCOUNTS = int(os.environ.get("DEMO_STORE_ACCOUNTS", "3000"))
PORT = int(os.environ.get("DEMO_PORT", "8000"))
TODAY = date(2020, 3, 10)
"""The business day the demo's portal shows: the epidemic policies are in force."""
REPORT = OUT / "run-2020q1" / "report.html"
"""The roll-up's HTML page (charts and tables), which the demo ends by pointing at."""


def point_at_report() -> None:
    """Say where the HTML report is, in Chinese and English, as the demo's last words."""
    if not REPORT.exists():
        return
    print(
        f"\n\033[1m打开 {REPORT} 查看报表（图表与汇总表）\n"
        f"Open {REPORT} to see the report (charts and tables)\033[0m\n"
        f"  {REPORT.as_uri()}",
        flush=True,
    )


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
    rel = run.relative_to(ROOT)
    step(
        "The regulator summary (人次 and 戶, as the 2020 report counted), its roll-up by "
        "company and week, and the same tables as a workbook and one HTML page",
        "report",
        str(rel),
        "--data",
        str(data.relative_to(ROOT)),
        "--policies",
        POLICIES,
        "--by",
        "company",
        "--by",
        "week",
        "--xlsx",
        str(rel / "report.xlsx"),
        "--html",
        str(rel / "report.html"),
    )
    print(f"""
Output files in {rel}/:
  actions.csv      every reminder, notice, suspension, cut-off, reconnection, 保電 order
  protections.csv  every enforcement a policy prevented (exempt) or moved (defer)
  late_fees.csv    each bill's late fee: accrued, waived, charged, days
  states.csv       each account's state, balance and arrears on 2020-03-31
  summary.json     the counts above, with the inputs' and policies' hashes
  report.xlsx      the roll-up tables (sanbuting report --xlsx), report.html the same with charts
Next:
  .venv/bin/sanbuting explain --data {data.relative_to(ROOT)} --policies {POLICIES} \\
      --account $(sed -n 2p {rel}/protections.csv | cut -d, -f2) --start 2020-01-01 --end 2020-03-31
  .venv/bin/sanbuting fee --ruleset cn-power-1996 --class non_residential --amount 2000 \\
      --due 2000-12-15 --paid 2001-01-18
  .venv/bin/sanbuting --help""")
    serve_portal()


def serve_portal() -> None:
    """Build a store of a few thousand accounts and serve the portal, console and API on it."""
    store_data, db = OUT / "store-data", OUT / "sanbuting.db"
    step(
        f"Generate {STORE_ACCOUNTS:,} accounts for the online service's store",
        "generate",
        "--accounts",
        str(STORE_ACCOUNTS),
        "--seed",
        "2021",
        "--out",
        str(store_data.relative_to(ROOT)),
    )
    print("\n\033[1m== Build the store: import, policies, the daily run, staff\033[0m", flush=True)
    began = time.perf_counter()
    db.unlink(missing_ok=True)
    demo = seed_demo(
        url=f"sqlite:///{db}",
        data=store_data,
        policies=ROOT / POLICIES,
        start=date(2020, 1, 1),
        through=TODAY,
        rejects=OUT / "store-rejects.csv",
    )
    print(f"({time.perf_counter() - began:.1f} s)")
    base = f"http://127.0.0.1:{PORT}"
    print(f"""
The online service, on the store in {db.relative_to(ROOT)} (business day {TODAY}):
  customer portal   {base}/            sign in with any mobile number; the code is in
                    {base}/demo/sms    (the demo's SMS inbox)
  staff console     {base}/console     password for every demo user: {DEMO_PASSWORD}
  API (OpenAPI)     {base}/docs
Accounts to bind (region, account number, holder's name, latest bill or top-up in yuan):""")
    for account in demo.accounts:
        print(
            f"  {account.region}  {account.account_id:<12} {account.holder:<4}"
            f"  {format_yuan(account.last_bill_fen):>9}  {account.utility} {account.billing_mode}"
        )
    print("Staff sign-ins (username: role):")
    for username, role, _company in demo.staff:
        print(f"  {username:<26} {role}")
    print(
        "  (deployment-regulator reads every company's figures, compared, at /console; "
        "监管机构账号可查看全部企业的统计对比)"
    )
    point_at_report()
    print("\nServing; press Ctrl-C to stop.", flush=True)
    env = {**os.environ, "SANBUTING_DATABASE_URL": f"sqlite:///{db}"}
    try:
        subprocess.run(
            [SANBUTING, "serve", "--demo", "--today", TODAY.isoformat(), "--port", str(PORT)],
            check=True,
            cwd=ROOT,
            env=env,
        )
    except KeyboardInterrupt:
        print("\nstopped")
        point_at_report()


if __name__ == "__main__":
    main()
