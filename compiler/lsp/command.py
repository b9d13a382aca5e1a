"""The `scenec lsp` subcommand's arguments; pygls is imported only when the server starts."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lsp = commands.add_parser("lsp", help="run the language server (editors start it; see docs/editors.md)",
                              description="The scenec language server: diagnostics, hover, completion, rename "
                                          "and quick fixes over stdio (or TCP for debugging).")
    # --stdio is what most clients (vscode-languageclient) pass; it is the default anyway.
    lsp.add_argument("--stdio", action="store_true", help="talk over standard input and output (default)")
    lsp.add_argument("--tcp", metavar="[HOST:]PORT", help="listen on TCP instead (debugging), e.g. --tcp 2087")
    lsp.add_argument("--log", metavar="FILE", help="append the server's log to FILE")
    lsp.set_defaults(handler=run)


def tcp_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"--tcp takes [HOST:]PORT, not {value!r}")
    return host or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    import logging

    if args.log:
        logging.basicConfig(filename=args.log, level=logging.INFO,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        address = tcp_address(args.tcp) if args.tcp else None
    except argparse.ArgumentTypeError as error:
        import sys

        print(f"scenec lsp: {error}", file=sys.stderr)
        return 2
    try:
        from .server import build_server
    except ImportError as error:  # the lsp extra is not installed
        import sys

        print(f"scenec lsp: {error.name or error} is missing; install it with: pip install 'scenec[lsp]'",
              file=sys.stderr)
        return 2

    server = build_server()
    import gc

    gc.freeze()  # what start-up imported lives as long as the server: keep it out of every collection
    if address:
        server.start_tcp(*address)
    else:
        server.start_io()
    return 0
