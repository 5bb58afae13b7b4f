"""Seal imprints drawn as a seal maker would: :mod:`~sealkit.seal.imprint.layout` (where each glyph goes,
a pure function of kind, name and size), :mod:`~sealkit.seal.imprint.draw` (the picture: font, ink, texture)
and :mod:`~sealkit.seal.imprint.geometry` (boxes, distances, the inside of the border)."""
