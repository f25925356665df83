"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .address import Address
from .address_create import AddressCreate
from .address_input import AddressInput
from .address_list import AddressList
from .address_update import AddressUpdate
from .audit_entry import AuditEntry
from .audit_entry_after_type_0 import AuditEntryAfterType0
from .audit_entry_before_type_0 import AuditEntryBeforeType0
from .audit_page import AuditPage
from .cart import Cart
from .cart_checkout import CartCheckout
from .cart_line import CartLine
from .cart_line_set import CartLineSet
from .cart_totals_for_type_0 import CartTotalsForType0
from .category import Category
from .category_list import CategoryList
from .discount import Discount
from .discount_create import DiscountCreate
from .discount_page import DiscountPage
from .discount_update import DiscountUpdate
from .email_verified import EmailVerified
from .error import Error
from .error_code import ErrorCode
from .login_result import LoginResult
from .open_api_document import OpenApiDocument
from .open_api_document_info import OpenApiDocumentInfo
from .open_api_document_paths import OpenApiDocumentPaths
from .order import Order
from .order_create import OrderCreate
from .order_fulfilment import OrderFulfilment
from .order_line import OrderLine
from .order_line_input import OrderLineInput
from .order_page import OrderPage
from .order_shipping_method_type_0 import OrderShippingMethodType0
from .order_status import OrderStatus
from .password_reset import PasswordReset
from .password_reset_request import PasswordResetRequest
from .payment import Payment
from .product import Product
from .product_create import ProductCreate
from .product_page import ProductPage
from .product_update import ProductUpdate
from .refund import Refund
from .refund_create import RefundCreate
from .refund_create_reason import RefundCreateReason
from .refund_reason import RefundReason
from .refund_status import RefundStatus
from .return_ import Return
from .return_approve import ReturnApprove
from .return_approve_lines_item import ReturnApproveLinesItem
from .return_create import ReturnCreate
from .return_lines_item import ReturnLinesItem
from .return_reject import ReturnReject
from .return_status import ReturnStatus
from .ship_order import ShipOrder
from .shipping_address import ShippingAddress
from .shipping_option import ShippingOption
from .shipping_option_estimated_days import ShippingOptionEstimatedDays
from .shipping_options import ShippingOptions
from .shipping_options_currency import ShippingOptionsCurrency
from .stripe_event import StripeEvent
from .stripe_event_data import StripeEventData
from .stripe_event_data_object import StripeEventDataObject
from .stripe_event_data_object_metadata import StripeEventDataObjectMetadata
from .totals import Totals
from .user import User
from .user_login import UserLogin
from .user_page import UserPage
from .user_register import UserRegister
from .user_role import UserRole
from .user_update import UserUpdate
from .verify_email import VerifyEmail
from .webhook_result import WebhookResult

__all__ = (
    "Accepted",
    "Address",
    "AddressCreate",
    "AddressInput",
    "AddressList",
    "AddressUpdate",
    "AuditEntry",
    "AuditEntryAfterType0",
    "AuditEntryBeforeType0",
    "AuditPage",
    "Cart",
    "CartCheckout",
    "CartLine",
    "CartLineSet",
    "CartTotalsForType0",
    "Category",
    "CategoryList",
    "Discount",
    "DiscountCreate",
    "DiscountPage",
    "DiscountUpdate",
    "EmailVerified",
    "Error",
    "ErrorCode",
    "LoginResult",
    "OpenApiDocument",
    "OpenApiDocumentInfo",
    "OpenApiDocumentPaths",
    "Order",
    "OrderCreate",
    "OrderFulfilment",
    "OrderLine",
    "OrderLineInput",
    "OrderPage",
    "OrderShippingMethodType0",
    "OrderStatus",
    "PasswordReset",
    "PasswordResetRequest",
    "Payment",
    "Product",
    "ProductCreate",
    "ProductPage",
    "ProductUpdate",
    "Refund",
    "RefundCreate",
    "RefundCreateReason",
    "RefundReason",
    "RefundStatus",
    "Return",
    "ReturnApprove",
    "ReturnApproveLinesItem",
    "ReturnCreate",
    "ReturnLinesItem",
    "ReturnReject",
    "ReturnStatus",
    "ShipOrder",
    "ShippingAddress",
    "ShippingOption",
    "ShippingOptionEstimatedDays",
    "ShippingOptions",
    "ShippingOptionsCurrency",
    "StripeEvent",
    "StripeEventData",
    "StripeEventDataObject",
    "StripeEventDataObjectMetadata",
    "Totals",
    "User",
    "UserLogin",
    "UserPage",
    "UserRegister",
    "UserRole",
    "UserUpdate",
    "VerifyEmail",
    "WebhookResult",
)
