"""Local development stack: the whole API on a laptop against an embedded moto server.

Run it with ``python -m devstack``. Nothing under ``chalicelib/`` or ``app.py`` imports this
package; it only drives the app from outside, the way AWS would.
"""
