"""Shared by the policy tests: the shipped 2020 example file and one good policy."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "policies" / "2020-epidemic.yaml"

GOOD = dedent("""\
    policies:
      - id: gd-power
        effect: exempt
        scope: {utility: [power], region: ["44"]}
        window: {start: 2020-01-24, end: 2020-03-01}
""")
