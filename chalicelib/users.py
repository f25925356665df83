"""Users: registration, login, profiles, and who may see which.

Each user is two items in the users table written in one transaction (see
:class:`chalicelib.models.UserRecord`): the profile ``USER#<id>`` and the login
record ``EMAIL#<email>``, whose ``attribute_not_exists`` condition makes the
email unique under any concurrency. Login reads one item and reserves the password check
on it (:mod:`chalicelib.login_backoff`); an authenticated request reads one item, in the
same ``BatchGetItem`` as the item it is about. Verification and password-reset links are
:mod:`chalicelib.account_links`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib import account_links, audit, login_backoff, passwords, transactions
from chalicelib.auth import Principal, issue_token, principal_from_token
from chalicelib.clock import now_iso
from chalicelib.errors import (
    ConcurrentUpdate,
    EmailTaken,
    NotFound,
    Unauthorized,
    ValidationError,
)
from chalicelib.models import PROFILE_PREFIX, AddressBook, UserRecord
from chalicelib.observability import metric
from chalicelib.pagination import paginate
from chalicelib.roles import ADMIN, CUSTOMER
from chalicelib.schemas import is_id
from chalicelib.text import bounded_email, echo
from chalicelib.transactions import ConditionsFailed, Transaction

M = TypeVar("M", bound=Model)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_LOGIN_FAILED = "email or password is incorrect"


def normalize_email(email: str) -> str:
    normalized = bounded_email(email)
    if not _EMAIL_RE.fullmatch(normalized):
        raise ValidationError("email is not a valid email address")
    return normalized


def user_view(record: UserRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "userId": record.user_id,
        "email": record.email,
        "name": record.name,
        "role": record.role,
        # Absent on accounts older than verification: unverified until they verify.
        "emailVerified": bool(record.email_verified),
        "createdAt": record.created_at,
    }
    if record.updated_at:
        view["updatedAt"] = record.updated_at
    return view


_ALREADY_CREATED = "already created"
_EMAIL_TAKEN = "email taken"


def _create(email: str, name: str, password: str, role: str, verify: bool = False) -> UserRecord:
    """Create the user; with ``verify``, also its verification link, emailed once created."""
    record = UserRecord(
        "",
        user_id=str(uuid.uuid4()),
        email=normalize_email(email),
        name=name,
        role=role,
        password_hash=passwords.hash_password(password),
        token_version=0,
        created_at=now_iso(),
    )
    link = account_links.start_verification(record) if verify else None
    profile, login = record.both_items()

    def build(tx: Transaction) -> None:
        tx.create(profile, on_fail=_ALREADY_CREATED)
        tx.create(login, on_fail=_EMAIL_TAKEN)

    try:
        transactions.write(build)
    except ConditionsFailed as failed:
        # The profile's id is new: only this request's own earlier attempt can hold it
        # (botocore resent the transaction after its answer was lost), so it landed.
        if _ALREADY_CREATED not in failed.meanings:
            raise EmailTaken("a user with this email already exists", field="email") from None
    if link is not None:
        account_links.send_verification(profile, link)
    return profile


def register(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` has passed the ``UserRegister`` schema."""
    record = _create(data["email"], data["name"], data["password"], CUSTOMER, verify=True)
    return user_view(record)


def login(data: dict[str, Any]) -> dict[str, Any]:
    """Unknown email and wrong password look and cost the same: one consistent GetItem,
    one conditional UpdateItem (the attempt reserved before the password is checked, see
    :mod:`chalicelib.login_backoff`; refused for an unknown email) and one Argon2id
    verification (against a dummy hash for an unknown email).

    A right password adds one write (clearing the count); a locked account is a 429
    before the password is even checked.
    """
    email = bounded_email(data["email"])
    password = data["password"]
    key = UserRecord.login_key(email)
    # A blank email has no account, and saying so reveals nothing: no AWS call at all.
    record = login_backoff.load(key) if email else None
    reservation = login_backoff.reserve(key, record) if email else None
    if record is None or reservation is None:
        passwords.burn_time(password)
        metric("LoginFailures")
        raise Unauthorized(_LOGIN_FAILED)
    if not passwords.verify_password(password, record.password_hash):
        login_backoff.failed(reservation, record.user_id)
        metric("LoginFailures")
        raise Unauthorized(_LOGIN_FAILED)
    login_backoff.succeeded(reservation)
    _upgrade_hash(record, password)
    token, expires_at = issue_token(record.user_id, record.role, int(record.token_version))
    return {"userId": record.user_id, "name": record.name, "token": token, "expiresAt": expires_at}


_PASSWORD_CHANGED = "password-changed"  # a concurrent change won: keep its hash


def _upgrade_hash(record: UserRecord, password: str) -> None:
    """Replace a hash made with older parameters; nothing at all in the usual case."""
    if not passwords.needs_rehash(record.password_hash):
        return
    new_hash = passwords.hash_password(password)
    # Both items, unless the password changed meanwhile (then the new one stands).
    unchanged = UserRecord.password_hash == record.password_hash
    upgrade: list[Action] = [UserRecord.password_hash.set(new_hash)]

    def build(tx: Transaction) -> None:
        for item in record.both_items():
            tx.update(item, upgrade, condition=unchanged, on_fail=_PASSWORD_CHANGED)

    try:
        transactions.write(build)
    except ConditionsFailed:
        return
    record.password_hash = new_hash


def authenticate(token: str | None) -> tuple[Principal, UserRecord]:
    """The bearer token's user and their current profile; revoked or deleted accounts: 401."""
    principal = principal_from_token(token)
    try:
        record = UserRecord.get(UserRecord.profile_key(principal.user_id), consistent_read=True)
    except DoesNotExist:
        raise Unauthorized("invalid or expired token") from None
    if int(record.token_version) != principal.token_version:
        raise Unauthorized("invalid or expired token")
    return Principal(record.user_id, record.role, principal.token_version), record


def authenticate_with(
    token: str | None, model_cls: type[M], hash_key: str | Callable[[str], str | None] | None
) -> tuple[Principal, UserRecord, M | None]:
    """:func:`authenticate`, and one more item read in the same ``BatchGetItem``.

    ``hash_key`` may be a function of the caller's user id (e.g. their cart's key);
    ``None`` (an id that cannot exist) reads the profile alone.
    """
    principal = principal_from_token(token)
    if callable(hash_key):
        hash_key = hash_key(principal.user_id)
    keys: list[tuple[type[Model], str]] = [(UserRecord, UserRecord.profile_key(principal.user_id))]
    if hash_key is not None:
        keys.append((model_cls, hash_key))
    found = transactions.batch_get(keys)
    record = found[0]
    if not isinstance(record, UserRecord) or int(record.token_version) != principal.token_version:
        raise Unauthorized("invalid or expired token")
    item = found[1] if hash_key is not None else None
    caller = Principal(record.user_id, record.role, principal.token_version)
    return caller, record, item if isinstance(item, model_cls) else None


def _load_visible(caller: Principal, caller_record: UserRecord, user_id: str) -> UserRecord:
    """The target user if the caller may see it; otherwise 404, never a hint it exists."""
    if user_id == caller.user_id:
        return caller_record
    not_found = NotFound(f"user {echo(user_id)} not found")
    if not caller.is_admin or not is_id(user_id):
        raise not_found
    try:
        return UserRecord.get(UserRecord.profile_key(user_id), consistent_read=True)
    except DoesNotExist:
        raise not_found from None


def profile_key(user_id: str) -> str | None:
    """The users-table key a user id's profile may be stored under (``None``: it cannot exist)."""
    return UserRecord.profile_key(user_id) if is_id(user_id) else None


def get_user(
    caller: Principal, caller_record: UserRecord, user_id: str, target: UserRecord | None
) -> dict[str, Any]:
    """``target`` was read in the caller's ``BatchGetItem``: one DynamoDB call in all."""
    if user_id == caller.user_id:
        return user_view(caller_record)
    if not caller.is_admin or target is None:
        raise NotFound(f"user {echo(user_id)} not found")
    return user_view(target)


def list_users(limit: int, cursor: str | None) -> dict[str, Any]:
    items, next_cursor = paginate(
        lambda **kw: UserRecord.scan(
            filter_condition=UserRecord.pk.startswith(PROFILE_PREFIX), **kw
        ),
        limit=limit,
        cursor=cursor,
        key_names={"pk"},
    )
    return {"items": [user_view(u) for u in items], "nextCursor": next_cursor}


def _write_both(
    record: UserRecord,
    actions: list[Action],
    also: Callable[[Transaction], None] | None = None,
) -> None:
    """Apply ``actions`` to both items, conditional on nobody having changed them meanwhile
    (with ``also``'s operations, e.g. an audit entry, in the same transaction)."""
    unchanged = UserRecord.token_version == record.token_version
    updated_at: str | None = record.updated_at  # null=True: PynamoDB types it as str
    if updated_at is None:
        unchanged &= UserRecord.updated_at.does_not_exist()
    else:
        unchanged &= UserRecord.updated_at == updated_at

    def build(tx: Transaction) -> None:
        changed = ConcurrentUpdate("the user was changed concurrently; read it again and retry")
        for item in record.both_items():
            tx.update(item, actions, condition=unchanged, on_fail=changed)
        if also is not None:
            also(tx)

    transactions.write(build)


def update_user(
    caller: Principal, caller_record: UserRecord, user_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Change the name and/or the password; a password change revokes earlier tokens."""
    record = _load_visible(caller, caller_record, user_id)
    changed_at = now_iso()
    actions: list[Action] = [UserRecord.updated_at.set(changed_at)]
    if "name" in data:
        actions.append(UserRecord.name.set(data["name"]))
        record.name = data["name"]
    if "password" in data:
        # Admins may reset another user's password; everyone proves their own.
        if not (caller.is_admin and user_id != caller.user_id):
            current = data.get("currentPassword")
            if current is None:
                raise ValidationError("currentPassword is required to change the password")
            # The same backoff as login, reserved on the same login item.
            key = UserRecord.login_key(record.email)
            reservation = login_backoff.reserve(key, login_backoff.load(key))
            if not passwords.verify_password(current, record.password_hash):
                login_backoff.failed(reservation, record.user_id)
                raise Unauthorized("currentPassword is incorrect")
        actions.append(UserRecord.password_hash.set(passwords.hash_password(data["password"])))
        actions.append(UserRecord.token_version.add(1))
        # A new password (also an admin's reset) clears the backoff.
        actions.extend(login_backoff.reset_actions())
    elif "currentPassword" in data:
        raise ValidationError("currentPassword is only accepted together with password")
    _write_both(record, actions)
    record.updated_at = changed_at
    return user_view(record)


def delete_user(caller: Principal, caller_record: UserRecord, user_id: str) -> None:
    """Remove both items (tokens stop working, the email is free again) and the address
    book, in one transaction; orders stay. An address added concurrently either lands
    first (and goes with the rest) or finds the profile gone (404)."""
    record = _load_visible(caller, caller_record, user_id)

    def build(tx: Transaction) -> None:
        gone = NotFound(f"user {echo(user_id)} not found")
        for item in record.both_items():
            tx.delete(item, on_fail=gone)
        tx.discard(AddressBook(AddressBook.key_for(record.user_id)))

    transactions.write(build)


def promote_to_admin(email: str, actor: str = audit.OPERATOR) -> dict[str, Any]:
    """Operator action (``make promote-admin``), never reachable through the API; the role
    change and its audit entry are one transaction."""
    try:
        record = UserRecord.get(UserRecord.login_key(normalize_email(email)), consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"no user with email {email}") from None
    if record.role != ADMIN:
        # Bumping the token version makes the user sign in again to get the new role.
        _write_both(
            record,
            [
                UserRecord.role.set(ADMIN),
                UserRecord.updated_at.set(now_iso()),
                UserRecord.token_version.add(1),
            ],
            lambda tx: audit.record(
                tx,
                actor,
                "user.role",
                "user",
                record.user_id,
                {"role": record.role},
                {"role": ADMIN},
            ),
        )
        record.role = ADMIN
    return user_view(record)


def ensure_admin(email: str, password: str) -> dict[str, Any]:
    """Create the admin, or promote the existing user with this email (local seeding)."""
    try:
        return user_view(_create(email, "Administrator", password, ADMIN))
    except EmailTaken:
        return promote_to_admin(email)
