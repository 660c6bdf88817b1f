from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Path:
    """Real-world inputs copied from public projects (see tests/SOURCES.tsv)."""
    return Path(__file__).resolve().parent.parent / "data" / "sources"
