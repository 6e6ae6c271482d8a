"""`make demo`: run sanbuting's commands on the shipped examples and say what to read next."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANBUTING = str(Path(sys.executable).with_name("sanbuting"))


def show(title: str, *args: str) -> None:
    print(f"\n\033[1m== {title}\033[0m\n$ sanbuting {' '.join(args)}", flush=True)
    subprocess.run([SANBUTING, *args], check=False, cwd=ROOT)


def main() -> None:
    print("三不停 sanbuting demo: late fees, relief policies and input checks on shipped examples")
    show(
        "The published 190-yuan example, December bill (cross-year, non-residential)",
        "fee",
        "--ruleset",
        "cn-power-1996",
        "--class",
        "non_residential",
        "--amount",
        "2000",
        "--due",
        "2000-12-15",
        "--paid",
        "2001-01-18",
    )
    show(
        "The same bill, explained in English",
        "fee",
        "--ruleset",
        "cn-power-1996",
        "--class",
        "non_residential",
        "--amount",
        "3000",
        "--due",
        "2001-01-15",
        "--paid",
        "2001-01-18",
        "--lang",
        "en",
    )
    show(
        "A Shenzhen bill issued in January 2020: late fee waived before 1 March",
        "fee",
        "--ruleset",
        "cn-power-1996",
        "--class",
        "residential",
        "--amount",
        "500",
        "--issued",
        "2020-01-10",
        "--due",
        "2020-01-25",
        "--paid",
        "2020-03-05",
        "--policies",
        "examples/policies/2020-epidemic.yaml",
        "--region",
        "440305",
    )
    show(
        "The 2020 epidemic relief policies, checked",
        "check-policies",
        "examples/policies/2020-epidemic.yaml",
    )
    with tempfile.TemporaryDirectory() as out:
        for scenario in sorted((ROOT / "examples" / "scenarios").iterdir()):
            show(
                f"Input check of scenario {scenario.name}",
                "validate",
                "--data",
                str(scenario.relative_to(ROOT)),
                "--out",
                out,
            )
    print("\nNext: `sanbuting --help` lists every command; docs/ and README.md explain them.")


if __name__ == "__main__":
    main()
