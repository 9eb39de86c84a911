"""`python -m twin serve WORLD`: serve a world until Ctrl-C or SIGTERM.

Prints one JSON line when ready: {"gitea", "drone", "docker", "gitea_token", "drone_token"}.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from twin import statedir
from twin.faults import Fault, FaultError, parse_fault
from twin.server import RemoteBindError, running_twin
from twin.world import WorldError, load_world

FAULT_HELP = """\
fault SPEC (repeatable): KIND[:OPTION=VALUE]...
  kinds:   status=CODE  answer CODE (400-599) with the service's error body
                        (429/503 add Retry-After, see retry_after)
           delay=SECS   wait SECS before answering (to outlast a client timeout)
           truncate     cut the body in half, mid-JSON
           short        drop the last item of a JSON list (paging headers still count it)
  options: path=GLOB (fnmatch on the URL path, default *), method=GET, service=gitea|drone|docker,
           after=N (let N matching requests through first), times=N (then fault N of them),
           retry_after=SECS
  e.g.     status=502:path=/api/v1/repos/*/pulls:times=2   delay=30:service=drone
"""


def _fault(text: str) -> Fault:
    try:
        return parse_fault(text)
    except FaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m twin", description="Serve a world file as Gitea, Drone and Docker."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve WORLD until Ctrl-C or SIGTERM",
        description="Serve WORLD on three ports (Gitea, Drone, Docker); print one JSON ready line.",
        epilog=FAULT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("world", help="the world file (YAML)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="first of three ports; 0 = any free ports")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay every response by N ms")
    serve.add_argument(
        "--fault", type=_fault, action="append", default=[], metavar="SPEC", help="inject a fault"
    )
    serve.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback host")
    serve.add_argument("--gitea-token", help="fixed Gitea token (default: random)")
    serve.add_argument("--drone-token", help="fixed Drone token (default: random)")
    serve.add_argument("--state-dir", metavar="DIR",
                       help="also write the world's files (machine-docs/...) into DIR, as a --world run does; "
                            "refused when DIR holds files the suite did not put there")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        world = load_world(args.world)
    except WorldError as exc:
        print(f"twin: {exc}", file=sys.stderr)
        return 2
    if args.state_dir:
        try:
            statedir.check_ours(Path(args.state_dir))
            statedir.write_world_files(world.files, Path(args.state_dir))
        except (statedir.StateDirError, OSError) as exc:
            print(f"twin: {exc}", file=sys.stderr)
            return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with running_twin(
            world,
            latency_ms=args.latency_ms,
            faults=args.fault,
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            gitea_token=args.gitea_token,
            drone_token=args.drone_token,
        ) as handle:
            print(json.dumps(handle.ready_line()), flush=True)
            while not stop.wait(0.5):
                pass
    except RemoteBindError as exc:
        print(f"twin: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"twin: cannot bind: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
