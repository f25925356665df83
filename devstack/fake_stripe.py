"""``python -m devstack.fake_stripe --port N``: localstripe on loopback, in memory.

localstripe's own entry point listens on every interface (``::``) and pickles its
whole store to ``/tmp/localstripe.pickle`` after every write, which parallel stacks
would share. This runs the same aiohttp app on 127.0.0.1 with the store kept in
memory. The local stack starts it as a subprocess (aiohttp wants its own loop).
"""

from __future__ import annotations

import argparse
import logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.fake_stripe")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources, server

    # In memory only: nothing shared between stacks, nothing left behind.
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    logging.basicConfig(level=logging.WARNING)
    web.run_app(server.app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
