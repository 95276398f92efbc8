"""Build hook: compile the gettext catalogs (intake/locale/*/LC_MESSAGES/*.po) into .mo files in every build."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    """Compile message catalogs next to their .po files in the build tree."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in Path("intake/locale").glob("*/LC_MESSAGES/*.po"):
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=po_path.parts[-3])
            target = Path(self.build_lib) / po_path.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                write_mo(out, catalog)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
