import pytest

from inventory import Inventory


@pytest.fixture
def stocked():
    inv = Inventory()
    inv.add("bolt", 40, price_cents=15)
    inv.add("nut", 3, price_cents=5)
    inv.add("washer", 5, price_cents=2)
    return inv
