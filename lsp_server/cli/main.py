"""Command line: serve (stdio default, --socket, --tcp on loopback with a token), one-shot `complete`, `model` tools.

Owns argument parsing and the small one-shot programs. `complete` runs the same completer,
worker and model as the server, on a file given on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import attrs

from lsp_server import __version__
from lsp_server.cli.logs import setup_logging
from lsp_server.lsp.token_auth import TOKEN_ENV, TokenError, load_token
from lsp_server.lsp.unix_socket import SocketPathError

COMMANDS = ("serve", "complete", "model", "doctor")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="local-llm-lsp", description="AI code completion over LSP from a local GGUF model.")
    p.add_argument("--version", action="version", version=f"local-llm-lsp {__version__}")
    p.add_argument("--log-file", help="write the log here instead of stderr")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="serve LSP (default: over stdio)")
    _model_args(serve)
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    where.add_argument("--socket", metavar="PATH",
                       help="listen on a Unix domain socket only you can open (mode 0600); the recommended local transport")
    where.add_argument("--tcp", type=int, metavar="PORT",
                       help=f"listen on 127.0.0.1:PORT; needs a token ({TOKEN_ENV} or --token-file), "
                            "sent by the client as initializationOptions.authToken")
    serve.add_argument("--token-file", metavar="PATH", help="the --tcp token, in a file only you can read")

    complete = sub.add_parser("complete", help="print the completion the server would give at a position")
    _model_args(complete)
    complete.add_argument("file", type=Path)
    complete.add_argument("--line", type=int, required=True, help="1-based line")
    complete.add_argument("--column", type=int, required=True, help="1-based column, in characters")
    complete.add_argument("--language", help="language id (default: from the file extension)")
    complete.add_argument("--stats", action="store_true", help="also print timing and token counts to stderr")

    model = sub.add_parser("model", help="the bundled models")
    msub = model.add_subparsers(dest="model_command", required=True)
    msub.add_parser("list", help="show the bundled models and whether they are installed")
    verify = msub.add_parser("verify", help="assemble if needed and check the SHA-256 of installed bundled models")
    verify.add_argument("which", nargs="?", choices=["default", "small"])
    path = msub.add_parser("path", help="print only the path of the GGUF the server would load")
    _model_args(path)

    doctor = sub.add_parser("doctor", help="measure this machine and say which model and settings fit it")
    doctor.add_argument("--quick", action="store_true", help="shorter measurement")
    remote = doctor.add_argument_group("a remote engine (instead of measuring this machine)")
    remote.add_argument("--backend", choices=["llama-server", "openai"], help="check the engine at --url")
    remote.add_argument("--url", help="the engine's address, e.g. http://gpu-box:8012")
    remote.add_argument("--remote-model", help="the model name for an openai backend (default: the first served)")
    remote.add_argument("--api-key-env", help="the environment variable holding the API key")
    remote.add_argument("--api-key-file", help="a file whose first line is the API key")
    remote.add_argument("--ca-bundle", help="a PEM file of CAs to trust besides the system's")
    remote.add_argument("--vocab", help="a local copy of the served GGUF, to tokenize with")
    remote.add_argument("--template", help="the FIM template (default: chosen from the model)")
    remote.add_argument("--timeout-ms", type=int, default=10000)
    return p


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="a GGUF file to use instead of the bundled model")
    p.add_argument("--small", action="store_true", help="use the small bundled model (0.5B)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `local-llm-lsp [--options]` with no command serves, as editors expect.
    first_positional = next((a for a in argv if not a.startswith("-") and a not in _move_globals(argv)), None)
    if first_positional not in COMMANDS and "--help" not in argv and "-h" not in argv and "--version" not in argv:
        argv = _move_globals(argv) + ["serve"] + [a for a in argv if a not in _move_globals(argv)]
    args = _parser().parse_args(argv)
    if args.command is None:
        args = _parser().parse_args([*argv, "serve"])
    setup_logging(args.log_level, args.log_file)
    if args.command == "serve":
        _serve(args)
    elif args.command == "complete":
        sys.exit(asyncio.run(_complete(args)))
    elif args.command == "model":
        from lsp_server.cli import model as model_cli  # deferred (as below): each command loads only what it runs

        sys.exit(model_cli.run(args))
    elif args.command == "doctor" and args.backend:
        if not args.url:
            _parser().error("doctor --backend needs --url")
        from lsp_server.cli import doctor_remote  # deferred (as below)

        sys.exit(doctor_remote.run(args))
    elif args.command == "doctor":
        from lsp_server.cli import doctor  # deferred: loads llama.cpp's bindings

        sys.exit(doctor.run(args))


def _move_globals(argv: list[str]) -> list[str]:
    """--log-file/--log-level given before an implied `serve` belong to the top-level parser."""
    out: list[str] = []
    for i, a in enumerate(argv):
        if a in ("--log-file", "--log-level") and i + 1 < len(argv):
            out += [a, argv[i + 1]]
        elif a.startswith(("--log-file=", "--log-level=")):
            out.append(a)
    return out


def _settings_for(args):
    from lsp_server.lsp.settings import Settings  # deferred: `model`/`doctor` need no LSP stack

    return Settings(model="small" if getattr(args, "small", False) else "default")


def _serve(args) -> None:
    from lsp_server.lsp.server import create_server  # deferred: pygls and tree-sitter load only to serve

    token = None
    if args.tcp is not None:
        try:
            token = load_token(os.environ, args.token_file)
        except TokenError as exc:
            sys.exit(f"local-llm-lsp: {exc}")
    server = create_server(cli_model=args.model)
    server.settings = server.manager.settings = _settings_for(args)
    if args.tcp is not None:
        server.serve_tcp(args.tcp, token)
    elif args.socket is not None:
        try:
            server.serve_socket(args.socket)
        except SocketPathError as exc:
            sys.exit(f"local-llm-lsp: {exc}")
    else:
        server.serve_stdio()


async def _complete(args) -> int:
    # deferred: the LSP side's modules load only for the commands that use them
    from lsp_server.lsp.completion.completer import Completer
    from lsp_server.lsp.documents import DocumentStore
    from lsp_server.lsp.model.manager import READY, ModelManager
    from lsp_server.syntax.languages import spec_for

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"local-llm-lsp: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    settings = attrs.evolve(_settings_for(args), precompute_next=False)
    spec = spec_for(args.language, str(args.file))
    docs = DocumentStore()
    uri = args.file.resolve().as_uri()
    docs.open(uri, args.language or (spec.language_ids[0] if spec else "plaintext"), 1, text)
    lines = docs.get(uri).starts
    if not 1 <= args.line <= len(lines):
        print(f"local-llm-lsp: line {args.line} is outside the file (1..{len(lines)})", file=sys.stderr)
        return 2

    def progress(event: dict) -> None:
        if event.get("stage") == "assemble":
            done, total = event.get("done", 0), max(1, event.get("total", 1))
            print(f"\rassembling the bundled model: {done * 100 // total}%", end="", file=sys.stderr, flush=True)

    manager = ModelManager(settings, cli_model=args.model, on_progress=progress)
    completer = Completer(docs, manager, lambda: settings)
    await manager.start()
    try:
        if manager.status.state != READY:
            print(f"local-llm-lsp: {manager.status.message}", file=sys.stderr)
            return 1
        suggestion = await completer.suggest(uri, args.line - 1, max(0, args.column - 1), "utf-32")
        if args.stats and suggestion is not None:
            print(f"stats: {suggestion.stats}", file=sys.stderr)
        if suggestion is None:
            print("(no completion here)", file=sys.stderr)
            return 0
        print(suggestion.text)
        return 0
    finally:
        await manager.stop()
