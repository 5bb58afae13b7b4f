"""Where the project's shared material is: ``../shared`` beside the checkout (notes, vectors, PDF corpus).

CI clones the repository into a fresh folder with a copy of ``shared/`` beside it, so tests never hard-code an
absolute path; ``SEALKIT_SHARED`` overrides the location.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SEALKIT_SHARED") or REPO.parent / "shared")
CORPUS = SHARED / "corpus"
SAMPLE_FILES = CORPUS / "sample-files"
ATTACKS = CORPUS / "attacks"
VECTORS = SHARED / "vectors" / "sm-vectors.json"
ENCRYPTED_SAMPLE = SAMPLE_FILES / "libreoffice-writer-password.pdf"
