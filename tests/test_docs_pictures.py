"""#26: README's first screen shows the report and the panel, as the browser tests screenshot them
(tools/docs_pictures.py copies them into docs/): small files, near the top of the README."""

from __future__ import annotations

from PIL import Image
from testlib import REPO

PICTURES = ("docs/report.png", "docs/panel.png")


def test_readme_shows_the_report_and_the_panel_on_its_first_screen() -> None:
    head = "\n".join((REPO / "README.md").read_text().splitlines()[:30])
    for rel in PICTURES:
        assert f"]({rel})" in head, rel
        path = REPO / rel
        assert path.stat().st_size < 200_000, (rel, path.stat().st_size)
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 1000 and image.height >= 600, (rel, image.size)
            # a screenshot of a page, not a blank: many colours are used, and light and dark pixels
            colours = image.convert("RGB").getcolors(1 << 16)
            assert colours is not None and len(colours) > 16
