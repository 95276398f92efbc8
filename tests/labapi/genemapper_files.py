"""GeneMapper ID-X "Genotypes Table" exports made the way labs save them, for the importer's tests."""

from __future__ import annotations

from collections.abc import Sequence

ENGLISH = {"file": "Sample File", "name": "Sample Name", "panel": "Panel", "marker": "Marker", "dye": "Dye",
           "allele": "Allele {n}", "size": "Size {n}", "height": "Height {n}"}  # fmt: skip
CHINESE = {"file": "样本文件", "name": "样本名称", "panel": "面板", "marker": "标记", "dye": "染料",
           "allele": "等位基因 {n}", "size": "大小 {n}", "height": "高度 {n}"}  # fmt: skip
LADDER = {"D8S1179": [str(n) for n in range(8, 20)], "AMEL": ["X", "Y"]}


def table(
    samples: Sequence[tuple[str, dict[str, list[str]]]],
    *,
    alleles: int = 2,
    headers: dict[str, str] = ENGLISH,
    sizes: bool = True,
    newline: str = "\r\n",
    trailing_tab: bool = True,
    panel: str = "ID_Lab_v2",
) -> str:
    """Return a Genotypes Table: one row per sample and marker, the lab's own columns, alleles left-aligned."""
    columns = [headers["file"], headers["name"], headers["panel"], headers["marker"], headers["dye"]]
    columns += [headers["allele"].format(n=n) for n in range(1, alleles + 1)]
    if sizes:
        columns += [headers["size"].format(n=n) for n in (1, 2)] + [
            headers["height"].format(n=n) for n in (1, 2)
        ]
    lines = ["\t".join(columns)]
    for well, (name, genotypes) in enumerate(samples, start=1):
        for marker, values in genotypes.items():
            cells = [f"A{well:02d}_{name}.fsa", name, panel, marker, "B"]
            cells += (list(values) + [""] * alleles)[:alleles]
            if sizes:
                cells += [
                    "120.5",
                    "124.6" if len(values) > 1 else "",
                    "1520",
                    "1433" if len(values) > 1 else "",
                ]
            lines.append("\t".join(cells) + ("\t" if trailing_tab else ""))
    return newline.join(lines) + newline
