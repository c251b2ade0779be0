"""`python -m batchops.local.emulator`: serve the emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse

from batchops.local.emulator import serve


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m batchops.local.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--speed", type=float, default=1.0, help="divide emulated delays by this")
    args = parser.parse_args()
    serve(host=args.host, port=args.port, speed=args.speed)


if __name__ == "__main__":
    main()
