"""Operator scripts behind ``make package|deploy|destroy|promote-admin``.

Run them as modules from the project root (``python -m scripts.deploy --stage dev``).
Importing any of them has no side effect: all work happens in ``main()``.
"""
