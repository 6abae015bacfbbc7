"""The result table: every figure next to its same-run baseline."""

import os
from dataclasses import dataclass


@dataclass
class Row:
    profile: str
    figure: str
    ours: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: "-"}[self.met]

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        return [self.profile, self.figure, self.ours, self.baseline, ratio, self.target,
                self.verdict]  # fmt: skip


HEADER = ["profile", "figure", "ours", "baseline (same run)", "ratio", "target", "met?"]


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{usable} usable cores ({os.cpu_count()} online)"


def text_table(rows: list[Row]) -> str:
    table = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADER))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |")
    return "\n".join(lines)
