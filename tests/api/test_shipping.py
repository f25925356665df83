"""Shipping and tax through the API: the options route, and orders priced with them."""

from __future__ import annotations


def test_shipping_options_list_what_ships_to_the_country_priced_for_the_subtotal(api):
    reply = api.get("/shipping/options?country=us&subtotal=20.00")
    assert reply.status == 200, reply.body
    assert reply.body["country"] == "US"
    assert reply.body["currency"] == "USD"
    assert [(o["id"], o["price"]) for o in reply.body["items"]] == [
        ("standard", "5.99"),
        ("express", "19.99"),
        ("pickup", "0.00"),
    ]
    assert reply.body["items"][0]["estimatedDays"] == {"min": 3, "max": 5}
    free = api.get("/shipping/options?country=US&subtotal=75")
    assert free.body["items"][0]["price"] == "0.00"  # free from 75.00


def test_a_country_nothing_ships_to_has_no_options(api):
    reply = api.get("/shipping/options?country=JP")
    assert reply.status == 200
    assert reply.body["items"] == []


def test_a_bad_country_or_subtotal_is_a_400_naming_it(api):
    for query, field in [
        ("country=USA", "country"),
        ("", "country"),
        ("country=U1", "country"),
        ("country=US&subtotal=1.999", "subtotal"),
        ("country=US&subtotal=-1", "subtotal"),
    ]:
        reply = api.get(f"/shipping/options?{query}")
        assert reply.status == 400, (query, reply.body)
        assert reply.body["field"] == field, query
