from pathlib import Path

import pytest

from tests.sources.render.common import RENDER_DATA


@pytest.fixture
def render_data() -> Path:
    """Real charts and overlays copied from public projects (see tests/SOURCES.tsv)."""
    return RENDER_DATA
