"""``make promote-admin STAGE=dev EMAIL=...``: make a registered user an admin.

Nobody becomes admin through the API. This runs on the operator's machine with the
operator's own AWS credentials, against the stage's tables as config.json names them.
"""

from __future__ import annotations

import os
import sys

from scripts.project import region, stage_environment, stage_parser


def main(argv: list[str] | None = None) -> int:
    parser = stage_parser("Promote a registered user to admin.")
    parser.add_argument("--email", required=True, help="the user's email address")
    args = parser.parse_args(argv)
    if not args.email.strip():
        parser.error("an email is required: make promote-admin STAGE=dev EMAIL=user@example.com")

    # chalicelib reads its table names once, at import: set the stage's first.
    os.environ.update(stage_environment(args.stage))
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    from chalicelib.errors import AppError
    from chalicelib.models import UserRecord
    from chalicelib.users import promote_to_admin

    if UserRecord.Meta.table_name != os.environ["USERS_TABLE"]:
        raise RuntimeError("chalicelib was imported before the stage environment was set")
    try:
        user = promote_to_admin(args.email)
    except AppError as exc:
        print(f"Not promoted: {exc.message}", file=sys.stderr)
        return 1
    print(
        f"{user['email']} (userId {user['userId']}) is an admin on stage {args.stage}. "
        "If they were not before, their tokens are revoked: they sign in again to act as admin."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
