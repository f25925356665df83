"""PynamoDB models: every table access goes through these.

Table names come from :mod:`chalicelib.config`; keys and indexes here must
match ``infra/resources.json`` (``tests/unit/test_template_models.py`` proves it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.constants import NUMBER
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.aws import watch
from chalicelib.config import get_settings
from chalicelib.roles import CUSTOMER
from chalicelib.shards import sharded_key


class SdkTiming:
    """PynamoDB's connection settings: the same timing as every other client (:mod:`.aws`).

    PynamoDB builds botocore's ``standard`` retry mode from these, counting retries
    where botocore counts attempts.
    """

    connect_timeout_seconds = get_settings().sdk_connect_timeout_seconds
    read_timeout_seconds = get_settings().sdk_read_timeout_seconds
    max_retry_attempts = get_settings().sdk_max_attempts - 1


class TableModel(Model):
    """The base of every table's model: its botocore client obeys the request deadline."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        connection = super()._get_connection()
        watch(connection.connection.client)
        return connection


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number kept as ``Decimal`` (PynamoDB's NumberAttribute yields floats)."""

    attr_type = NUMBER

    def serialize(self, value: Any) -> str:
        return str(Decimal(value))

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


PROFILE_PREFIX = "USER#"
LOGIN_PREFIX = "EMAIL#"


class UserRecord(TableModel):
    """One user, stored twice in the users table, written together in one transaction.

    ``pk = "USER#<userId>"`` is the profile (read by id on every authenticated
    request); ``pk = "EMAIL#<email>"`` is the login record (read by email at login)
    and, being written with ``attribute_not_exists``, the guard that keeps emails
    unique under concurrency. Both items carry the same attributes.
    """

    class Meta(SdkTiming):
        table_name = get_settings().users_table

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute(default=CUSTOMER)
    password_hash = UnicodeAttribute(attr_name="passwordHash")
    token_version = NumberAttribute(attr_name="tokenVersion", default=0)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)
    # Login backoff (chalicelib.login_backoff), kept on the login item only.
    failed_logins = NumberAttribute(attr_name="failedLogins", null=True)
    locked_until = NumberAttribute(attr_name="lockedUntil", null=True)
    # Email verification and password reset (chalicelib.account_links). Absent on users
    # registered before verification existed: they read as unverified.
    email_verified = BooleanAttribute(attr_name="emailVerified", null=True)
    # SHA-256 of the secret half of the outstanding links, with their expiry (epoch s),
    # which also times the one-a-minute limit on sending them.
    verify_token_hash = UnicodeAttribute(attr_name="verifyTokenHash", null=True)
    verify_expires_at = NumberAttribute(attr_name="verifyExpiresAt", null=True)
    reset_token_hash = UnicodeAttribute(attr_name="resetTokenHash", null=True)
    reset_expires_at = NumberAttribute(attr_name="resetExpiresAt", null=True)

    @staticmethod
    def profile_key(user_id: str) -> str:
        return PROFILE_PREFIX + user_id

    @staticmethod
    def login_key(email: str) -> str:
        return LOGIN_PREFIX + email

    def both_items(self) -> tuple[UserRecord, UserRecord]:
        """This user's profile and login items: every attribute but the key, copied."""
        attributes = {name: getattr(self, name) for name in self.get_attributes() if name != "pk"}
        return (
            UserRecord(self.profile_key(self.user_id), **attributes),
            UserRecord(self.login_key(self.email), **attributes),
        )


DEFAULT_CATEGORY = "general"
CATALOGUE_PARTITION = "PRODUCT"
CATEGORY_LIST_PARTITION = "CATEGORY"
CATEGORY_PREFIX = "CATEGORY#"
CART_PREFIX = "CART#"
ADDRESSES_PREFIX = "ADDRESSES#"


# DynamoDB refuses a sort key over 1,024 bytes (moto does not check), and case folding grows
# a name up to 6 bytes a character: 200 x "ΐ" (U+0390) folds to 1,200 bytes.
MAX_NAME_KEY_BYTES = 800


def name_key(name: str) -> str:
    """The sort key of the catalogue indexes: the name, case-folded (A to Z, any case),
    cut to MAX_NAME_KEY_BYTES at a character boundary. A search prefix goes through the
    same function, so a name still starts with every prefix it started with."""
    folded = name.casefold()
    raw = folded.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_NAME_KEY_BYTES:
        return folded
    return raw[:MAX_NAME_KEY_BYTES].decode("utf-8", "ignore")


class ProductsByNameIndex(GlobalSecondaryIndex["Product"]):
    """Every product by name. Keys only: it holds neither stock nor version, so the
    stock decrement of an order never writes to it and one constant partition is
    safe (only admin edits of name or category write here)."""

    class Meta:
        index_name = "byName"
        projection = KeysOnlyProjection()

    catalogue = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True, attr_name="nameKey")


class ProductsByCategoryIndex(GlobalSecondaryIndex["Product"]):
    """One category's products by name; keys only, for the same reason as ``byName``."""

    class Meta:
        index_name = "byCategory"
        projection = KeysOnlyProjection()

    category = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True, attr_name="nameKey")


class Product(TableModel):
    """A product. ``category``, ``catalogue`` and ``nameKey`` are absent on rows written
    before categories existed: such a product reads as ``general`` and enters the
    listings once ``make migrate`` (or its next edit) gives it the index keys."""

    class Meta(SdkTiming):
        table_name = get_settings().products_table

    product_id = UnicodeAttribute(hash_key=True, attr_name="productId")
    name = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    catalogue = UnicodeAttribute(null=True)
    name_key = UnicodeAttribute(attr_name="nameKey", null=True)
    description = UnicodeAttribute(null=True)
    price = DecimalAttribute()
    stock = NumberAttribute(default=0)
    version = VersionAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)

    by_name = ProductsByNameIndex()
    by_category = ProductsByCategoryIndex()

    @property
    def category_or_default(self) -> str:
        return self.category or DEFAULT_CATEGORY


class CategoriesIndex(GlobalSecondaryIndex["CategoryCount"]):
    """Sparse: only the per-category counters, by slug."""

    class Meta:
        index_name = "categories"
        projection = AllProjection()

    category_list = UnicodeAttribute(hash_key=True, attr_name="categoryList")
    slug = UnicodeAttribute(range_key=True)


class CategoryCount(TableModel):
    """How many products a category has, in the products table under ``CATEGORY#<slug>``.

    Changed in the same transaction as every product create, delete and category
    change, so the count is exact. Written only by admin catalogue edits, so the
    constant partition of the ``categories`` index sees no per-order traffic.
    """

    class Meta(SdkTiming):
        table_name = get_settings().products_table

    key = UnicodeAttribute(hash_key=True, attr_name="productId")
    category_list = UnicodeAttribute(attr_name="categoryList", default=CATEGORY_LIST_PARTITION)
    slug = UnicodeAttribute()
    product_count = NumberAttribute(attr_name="count", default=0)

    categories = CategoriesIndex()

    @staticmethod
    def key_for(slug: str) -> str:
        return CATEGORY_PREFIX + slug


DISCOUNT_PREFIX = "DISCOUNT#"
REDEMPTION_PREFIX = "REDEEMED#"
# The ``catalogue`` value of discount codes: the keys-only ``byName`` index lists them under
# it, by code, apart from the products (a redemption changes no key, so never writes there).
DISCOUNT_LIST_PARTITION = "DISCOUNT"
# Keys of the products table that are not products (a product id never starts with these).
NOT_PRODUCT_PREFIXES = (CATEGORY_PREFIX, DISCOUNT_PREFIX, REDEMPTION_PREFIX)


def is_product_key(key: str) -> bool:
    """Whether a products-table key can be a product's (not a counter's or a code's)."""
    return not key.startswith(NOT_PRODUCT_PREFIXES)


class DiscountsByCodeIndex(GlobalSecondaryIndex["DiscountCode"]):
    """``byName`` read for discount codes: partition ``DISCOUNT``, by code."""

    class Meta:
        index_name = "byName"
        projection = KeysOnlyProjection()

    catalogue = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True, attr_name="nameKey")


class DiscountCode(TableModel):
    """A discount code, in the products table under ``DISCOUNT#<code>``: read in the same
    ``BatchGetItem`` as an order's products, and its ``redemptions`` counted in the order's
    transaction. ``version`` is bumped by edits only (not by redemptions)."""

    class Meta(SdkTiming):
        table_name = get_settings().products_table

    key = UnicodeAttribute(hash_key=True, attr_name="productId")
    code = UnicodeAttribute()
    catalogue = UnicodeAttribute(default=DISCOUNT_LIST_PARTITION)
    name_key = UnicodeAttribute(attr_name="nameKey")  # the code: the listing's order
    percent_off = NumberAttribute(attr_name="percentOff", null=True)
    amount_off = DecimalAttribute(attr_name="amountOff", null=True)
    min_subtotal = DecimalAttribute(attr_name="minSubtotal", null=True)
    starts_at = UnicodeAttribute(attr_name="startsAt", null=True)
    ends_at = UnicodeAttribute(attr_name="endsAt", null=True)
    max_redemptions = NumberAttribute(attr_name="maxRedemptions", null=True)
    once_per_customer = BooleanAttribute(attr_name="oncePerCustomer", default=False)
    product_ids = UnicodeSetAttribute(attr_name="productIds", null=True)
    categories = UnicodeSetAttribute(null=True)
    redemptions = NumberAttribute(default=0)
    retired_at = UnicodeAttribute(attr_name="retiredAt", null=True)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)

    by_code = DiscountsByCodeIndex()

    @staticmethod
    def key_for(code: str) -> str:
        return DISCOUNT_PREFIX + code


class DiscountRedemption(TableModel):
    """A once-per-customer code's use by one buyer, in the products table under
    ``REDEEMED#<code>#<userId>``: created (only if absent) in the order's transaction,
    deleted when that order is cancelled or expires."""

    class Meta(SdkTiming):
        table_name = get_settings().products_table

    key = UnicodeAttribute(hash_key=True, attr_name="productId")
    order_id = UnicodeAttribute(attr_name="orderId")
    created_at = UnicodeAttribute(attr_name="createdAt")

    @staticmethod
    def key_for(code: str, user_id: str) -> str:
        return f"{REDEMPTION_PREFIX}{code}#{user_id}"


AUDIT_PREFIX = "AUDIT#"


class AuditIndex(GlobalSecondaryIndex["AuditEntry"]):
    """Sparse: only audit entries, newest first within one scope (everything, one entity
    type, one entity). Written only by staff actions, so a scope of few values is safe."""

    class Meta:
        index_name = "audit"
        projection = AllProjection()

    scope = UnicodeAttribute(hash_key=True, attr_name="auditScope")
    sort_key = UnicodeAttribute(range_key=True, attr_name="auditAt")


class AuditEntry(TableModel):
    """One staff action (chalicelib/audit.py), in the users table under
    ``AUDIT#<entryId>#<n>``: written once per scope it is listed in, never changed."""

    class Meta(SdkTiming):
        table_name = get_settings().users_table

    pk = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute(attr_name="auditScope")
    sort_key = UnicodeAttribute(attr_name="auditAt")  # "<at>#<entryId>": newest first, unique
    entry_id = UnicodeAttribute(attr_name="entryId")
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    entity = UnicodeAttribute()
    entity_id = UnicodeAttribute(attr_name="entityId")
    at = UnicodeAttribute()
    before = UnicodeAttribute(null=True)  # JSON of the changed fields as they were
    after = UnicodeAttribute(null=True)  # JSON of the changed fields as they became

    by_scope = AuditIndex()


class CartLine(MapAttribute[str, Any]):
    product_id = UnicodeAttribute(attr_name="productId")
    quantity = NumberAttribute()

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class CartRecord(TableModel):
    """A user's cart, in the users table under ``CART#<userId>``: read together with the
    profile in one ``BatchGetItem``. ``expiresAt`` (the users table's TTL) is 30 days
    after the last change."""

    class Meta(SdkTiming):
        table_name = get_settings().users_table

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    lines = ListAttribute(of=CartLine, default=list)
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")

    @staticmethod
    def key_for(user_id: str) -> str:
        return CART_PREFIX + user_id


class AddressEntry(MapAttribute[str, Any]):
    """One address of an address book, as :func:`chalicelib.addresses.parse_address` made it."""

    address_id = UnicodeAttribute(attr_name="addressId")
    name = UnicodeAttribute()
    line1 = UnicodeAttribute()
    line2 = UnicodeAttribute(null=True)
    city = UnicodeAttribute()
    region = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute(attr_name="postalCode", null=True)
    country = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class AddressBook(TableModel):
    """A user's address book, in the users table under ``ADDRESSES#<userId>``.

    One item per user, so placing an order reads it in the same ``BatchGetItem`` as the
    profile. ``addresses`` are in the order they were added (oldest first); at most
    ``schemas.MAX_ADDRESSES``. Every change is a whole-item put conditional on the
    ``version`` read (optimistic locking: two tabs cannot lose each other's edits).
    """

    class Meta(SdkTiming):
        table_name = get_settings().users_table

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    addresses = ListAttribute(of=AddressEntry, default=list)
    default_id = UnicodeAttribute(attr_name="defaultAddressId", null=True)
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    @staticmethod
    def key_for(user_id: str) -> str:
        return ADDRESSES_PREFIX + user_id


class OrderLine(MapAttribute[str, Any]):
    product_id = UnicodeAttribute(attr_name="productId")
    name = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price = DecimalAttribute(attr_name="unitPrice")
    line_total = DecimalAttribute(attr_name="lineTotal")
    # The line's tax (chalicelib/pricing.py); absent on orders placed before tax existed.
    tax = DecimalAttribute(null=True)
    # The line's share of the order's discount (chalicelib/discounts.py); absent: none.
    discount = DecimalAttribute(null=True)

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class ItemCount(MapAttribute[str, Any]):
    """A quantity of one of the order's products: a refunded or returned line."""

    product_id = UnicodeAttribute(attr_name="productId")
    quantity = NumberAttribute()
    restock = BooleanAttribute(null=True)  # a return's line: the approval's choice

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class RefundEntry(MapAttribute[str, Any]):
    """One refund of an order (chalicelib/refunds.py): only ever appended to ``refunds``."""

    refund_id = UnicodeAttribute(attr_name="refundId")
    amount = DecimalAttribute()
    reason = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    lines = ListAttribute(of=ItemCount, default=list)
    status = UnicodeAttribute()  # pending, succeeded or failed
    provider_refund_id = UnicodeAttribute(attr_name="providerRefundId", null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    by = UnicodeAttribute()  # the staff user's id, or the buyer's for a return's refund
    emailed = BooleanAttribute(null=True)  # the buyer's email is sent or being sent

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class ReturnEntry(MapAttribute[str, Any]):
    """One return request of an order (chalicelib/returns.py): only the last one is open."""

    return_id = UnicodeAttribute(attr_name="returnId")
    lines = ListAttribute(of=ItemCount)
    reason = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # requested, approved, rejected or received
    requested_at = UnicodeAttribute(attr_name="requestedAt")
    decided_at = UnicodeAttribute(attr_name="decidedAt", null=True)
    decided_by = UnicodeAttribute(attr_name="decidedBy", null=True)
    reject_reason = UnicodeAttribute(attr_name="rejectReason", null=True)
    received_at = UnicodeAttribute(attr_name="receivedAt", null=True)
    refund_id = UnicodeAttribute(attr_name="refundId", null=True)

    def __init__(self, **attributes: Any) -> None:  # PynamoDB's own is unannotated
        super().__init__(**attributes)


class OrdersByUserIndex(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "byUser"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class OrdersByCreatedIndex(GlobalSecondaryIndex["Order"]):
    """Every order, newest first, for the admin listing.

    Every order write lands here, so the key is sharded (``ORDER#<shard>``,
    :mod:`chalicelib.shards`) and the listing merges the shards."""

    class Meta:
        index_name = "byCreated"
        projection = AllProjection()

    list_partition = UnicodeAttribute(hash_key=True, attr_name="listPartition")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class UnannouncedEventsIndex(GlobalSecondaryIndex["Order"]):
    """Sparse: only orders whose last event the subscriber has not acknowledged yet.

    Every order write lands here, so the key is sharded: ``<event type>#<shard>``
    (:meth:`Order.pending_event_for`, :mod:`chalicelib.shards`); rows from before the
    sharding carry the bare event type until ``make migrate``."""

    class Meta:
        index_name = "unannounced"
        projection = AllProjection()

    pending_event = UnicodeAttribute(hash_key=True, attr_name="pendingEvent")
    event_at = UnicodeAttribute(range_key=True, attr_name="eventAt")


class AwaitingPaymentIndex(GlobalSecondaryIndex["Order"]):
    """Sparse: only orders still waiting for their payment, oldest deadline first.

    The hash key is one of a few shard values, so the unpaid orders of a busy sale
    do not all land on one partition; the expiry sweep queries each shard.
    """

    class Meta:
        index_name = "awaitingPayment"
        projection = AllProjection()

    awaiting_shard = UnicodeAttribute(hash_key=True, attr_name="awaitingShard")
    payment_expires_at = UnicodeAttribute(range_key=True, attr_name="paymentExpiresAt")


class OrdersByStatusIndex(GlobalSecondaryIndex["Order"]):
    """The fulfilment queue: orders of one status, newest first.

    A status takes few values and every order write sets one, so the key is
    sharded (``<STATUS>#<shard>``, :mod:`chalicelib.shards`) and reads merge the shards.
    """

    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    status_shard = UnicodeAttribute(hash_key=True, attr_name="statusShard")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


ORDER_LIST_PARTITION = "ORDER"
# The orders table also holds idempotency records, under this key prefix.
IDEMPOTENCY_PREFIX = "IDEM#"
# awaitingShard values: chalicelib.shards keys of this value ("AWAITING#<shard>").
AWAITING_PAYMENT_KEY = "AWAITING"


class Order(TableModel):
    class Meta(SdkTiming):
        table_name = get_settings().orders_table

    order_id = UnicodeAttribute(hash_key=True, attr_name="orderId")
    user_id = UnicodeAttribute(attr_name="userId")
    status = UnicodeAttribute()
    items = ListAttribute(of=OrderLine)
    total = DecimalAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)
    # ``ORDER#<shard>`` (see :meth:`list_partition_for`); ``ORDER`` on rows from before the
    # sharding, until ``make migrate``.
    list_partition = UnicodeAttribute(attr_name="listPartition", null=True)
    # ``<event type>#<shard>`` (see :meth:`pending_event_for`); the bare event type on rows
    # from before the sharding, until ``make migrate``. :attr:`pending_event_type` reads both.
    pending_event = UnicodeAttribute(attr_name="pendingEvent", null=True)
    event_at = UnicodeAttribute(attr_name="eventAt", null=True)
    # Only with a payment provider (chalicelib/payments.py). ``awaitingShard`` exists
    # only while the order is AWAITING_PAYMENT, which keeps the index sparse.
    payment_provider = UnicodeAttribute(attr_name="paymentProvider", null=True)
    payment_intent_id = UnicodeAttribute(attr_name="paymentIntentId", null=True)
    payment_client_secret = UnicodeAttribute(attr_name="paymentClientSecret", null=True)
    payment_expires_at = UnicodeAttribute(attr_name="paymentExpiresAt", null=True)
    awaiting_shard = UnicodeAttribute(attr_name="awaitingShard", null=True)
    # Event types whose buyer email is sent or being sent: at most one email per event.
    emailed = UnicodeSetAttribute(attr_name="emailed", null=True)
    status_shard = UnicodeAttribute(attr_name="statusShard", null=True)
    # After the sale: refunds (appended, never removed) and what they add up to (pending
    # ones included), the returns, and when it was delivered (the return window's start).
    refunds = ListAttribute(of=RefundEntry, null=True)
    amount_refunded = DecimalAttribute(attr_name="amountRefunded", null=True)
    returns = ListAttribute(of=ReturnEntry, null=True)
    delivered_at = UnicodeAttribute(attr_name="deliveredAt", null=True)
    # A discount code's redemption (chalicelib/discounts.py): the code (the amount off is
    # ``discount`` above, one per line in OrderLine.discount).
    discount_code = UnicodeAttribute(attr_name="discountCode", null=True)
    # The money breakdown (chalicelib/pricing.py): total = subtotal + shippingPrice + tax -
    # discount. All absent on legacy orders (placed before shipping and tax; they were USD).
    currency = UnicodeAttribute(null=True)
    subtotal = DecimalAttribute(null=True)
    shipping_price = DecimalAttribute(attr_name="shippingPrice", null=True)
    tax = DecimalAttribute(null=True)
    discount = DecimalAttribute(null=True)
    # A copy of where it goes (later edits to the address book never change it) and how.
    shipping_address = MapAttribute[str, Any](attr_name="shippingAddress", null=True)
    shipping_method = UnicodeAttribute(attr_name="shippingMethod", null=True)
    shipping_method_name = UnicodeAttribute(attr_name="shippingMethodName", null=True)
    # Recorded by the ship step (both optional).
    carrier = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(attr_name="trackingNumber", null=True)

    by_user = OrdersByUserIndex()
    by_created = OrdersByCreatedIndex()
    unannounced = UnannouncedEventsIndex()
    awaiting_payment = AwaitingPaymentIndex()
    by_status = OrdersByStatusIndex()

    @staticmethod
    def status_shard_for(order_id: str, status: str) -> str:
        return sharded_key(status, order_id)

    @staticmethod
    def pending_event_for(order_id: str, event_type: str) -> str:
        """The ``unannounced`` partition of an order's unacknowledged event, sharded."""
        return sharded_key(event_type, order_id)

    @property
    def pending_event_type(self) -> str | None:
        """The event type the subscriber has not acknowledged yet, if any."""
        return None if self.pending_event is None else self.pending_event.partition("#")[0]

    @staticmethod
    def list_partition_for(order_id: str) -> str:
        """The ``byCreated`` partition of an order: the admin listing's keys, sharded."""
        return sharded_key(ORDER_LIST_PARTITION, order_id)


class IdempotencyRecord(TableModel):
    """``Idempotency-Key`` bookkeeping, in the orders table under ``orderId = "IDEM#..."``.

    It has none of the index keys, so it never shows up in an order listing.
    ``expiresAt`` is the table's TTL attribute.
    """

    class Meta(SdkTiming):
        table_name = get_settings().orders_table

    key = UnicodeAttribute(hash_key=True, attr_name="orderId")
    request_hash = UnicodeAttribute(attr_name="requestHash")
    target_order_id = UnicodeAttribute(attr_name="targetOrderId")
    response = UnicodeAttribute()
    expires_at = TTLAttribute(attr_name="expiresAt")


ALL_MODELS: tuple[type[Model], ...] = (
    UserRecord,
    CartRecord,
    AddressBook,
    Product,
    CategoryCount,
    Order,
    IdempotencyRecord,
    DiscountCode,
    DiscountRedemption,
    AuditEntry,
)
