"""Loading a referential Gatekeeper template makes the process keep whole objects of its kinds
(validator.inventory.gatekeeper): each test here gives the kinds back as it found them."""

import pytest

from validator.inventory import gatekeeper


@pytest.fixture(autouse=True)
def _synced_kinds_restored():
    before = gatekeeper.synced()
    yield
    gatekeeper.restore(before)
