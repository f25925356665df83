def test_admin_creates_and_anyone_reads_a_product(api, admin):
    product = api.create_product(admin, name="Lamp", price=12.5, stock=3)
    reply = api.get(f"/products/{product['productId']}")
    assert reply.status == 200
    assert reply.body["name"] == "Lamp"
    assert reply.body["price"] == 12.5
    assert reply.body["stock"] == 3
