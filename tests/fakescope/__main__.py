"""Serve the fake DashScope API from the command line until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.fakescope.server import FAULTS, FakeDashScope, parse_fault_spec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakescope",
        description="A DashScope-compatible video-synthesis server on loopback (every model scenec compiles for). "
        "Faults can also be queued at run time: POST /_fake/inject {\"endpoint\":..., \"fault\":..., \"times\":...}.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds from submit to SUCCEEDED")
    parser.add_argument("--pending", type=float, default=None, help="seconds a task stays PENDING (default: delay/2)")
    parser.add_argument("--api-key", default="sk-test")
    parser.add_argument("--url-ttl", type=float, default=86400.0, help="lifetime of signed video URLs, seconds")
    parser.add_argument("--max-concurrent", type=int, default=None, help="RUNNING tasks at once; the rest wait PENDING")
    parser.add_argument("--video-file", help="serve this file as every generated video")
    parser.add_argument("--truncate-long-prompts", action="store_true",
                        help="cut over-long prompts like the real service")
    parser.add_argument(
        "--inject",
        action="append",
        default=[],
        metavar="ENDPOINT:FAULT[:TIMES][:k=v,...]",
        help="queue a fault, e.g. submit:throttle:2, task:slow:1:seconds=3, submit:fail:1:code=DataInspectionFailed; "
        + "; ".join(f"{endpoint}: {', '.join(sorted(faults))}" for endpoint, faults in FAULTS.items()),
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    video = None
    if args.video_file:
        with open(args.video_file, "rb") as handle:
            video = handle.read()
    server = FakeDashScope(
        api_key=args.api_key,
        generation_delay=args.delay,
        pending_time=args.pending,
        host=args.host,
        port=args.port,
        video_bytes=video,
        url_ttl=args.url_ttl,
        max_concurrent_tasks=args.max_concurrent,
        truncate_long_prompts=args.truncate_long_prompts,
        log=None if args.quiet else sys.stderr,
    )
    for spec in args.inject:
        endpoint, fault, times, options = parse_fault_spec(spec)
        server.inject(endpoint, fault, times, **options)
    # Ctrl-C and SIGTERM both end the server cleanly, even when started in the background (SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    server.start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
