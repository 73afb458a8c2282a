import pytest

from inventory import Inventory, OutOfStock


def test_new_inventory_is_empty():
    inv = Inventory()
    assert inv.quantity("bolt") == 0
    assert inv.total_value_cents() == 0


def test_add_accumulates_quantity(stocked):
    stocked.add("bolt", 10)
    assert stocked.quantity("bolt") == 50


def test_remove_takes_items_out(stocked):
    stocked.remove("bolt", 15)
    assert stocked.quantity("bolt") == 25


def test_remove_more_than_held_raises(stocked):
    with pytest.raises(OutOfStock, match="only 3 in stock"):
        stocked.remove("nut", 4)


@pytest.mark.parametrize(
    "quantity, price_cents, expected",
    [(1, 100, 100), (3, 25, 75), (0, 999, 0)],
)
def test_total_value(quantity, price_cents, expected):
    inv = Inventory()
    inv.add("widget", quantity, price_cents=price_cents)
    assert inv.total_value_cents() == expected


def test_low_stock_is_alphabetical(stocked):
    assert stocked.low_stock(threshold=10) == ["nut", "washer"]


def test_low_stock_report(stocked):
    # Intentionally failing, to show how pytestd reports a failure: the washer (5 units) is not below 5.
    assert stocked.low_stock(threshold=5) == ["nut", "washer"]


@pytest.mark.skip(reason="CSV export is not written yet")
def test_export_csv(stocked):
    assert stocked.to_csv().startswith("name,quantity,price_cents")


@pytest.mark.xfail(reason="negative quantities are not rejected yet", strict=True)
def test_add_rejects_negative_quantity():
    with pytest.raises(ValueError):
        Inventory().add("bolt", -1)
