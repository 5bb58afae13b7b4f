"""scripts/seal_gallery.py stays runnable: every kind renders at the shortest and longest gallery names."""

import importlib.util
import io
from pathlib import Path

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "seal_gallery.py"


def _gallery_module():
    spec = importlib.util.spec_from_file_location("seal_gallery", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_script_renders_every_kind():
    gallery = _gallery_module()
    png = gallery.make_gallery(lengths=(2, 23))
    image = Image.open(io.BytesIO(png))
    assert image.size == (gallery.LABEL_W + 2 * gallery.CELL, 40 + 2 * len(gallery.ROWS) * gallery.CELL)
    assert {n: len(name) for n, name in gallery.NAMES.items()} == {n: n for n in gallery.NAMES}
    committed = Image.open(SCRIPT.parents[1] / "docs" / "seal-gallery.png")
    assert committed.size == (gallery.LABEL_W + len(gallery.NAMES) * gallery.CELL, image.height)
