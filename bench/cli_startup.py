"""Start-up CPU of ``sitecare`` commands: user + system time of fresh processes.

Runs each command ``--runs`` times in a fresh process (``python -c 'sitecare.cli.main()'``
from the given source tree, so an older checkout can be measured with the same
interpreter), interleaving the trees so both see the same machine load, and prints the
median user+sys CPU of each (read with ``resource.getrusage(RUSAGE_CHILDREN)`` around each
child) and the heavy packages the command imported.

    uv run python bench/cli_startup.py                     # this tree
    uv run python bench/cli_startup.py --tree /work/main   # this tree and an older one
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["check", "--help"], ["sla", "--help"])
HEAVY = ("holidays", "apprise", "playwright", "pydantic", "ninja", "cryptography", "dns")
# Runs the CLI from the tree in the working directory, then names the heavy modules loaded.
PROGRAM = f"""
import sys
from sitecare.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stderr.write("HEAVY " + " ".join(m for m in {HEAVY!r} if m in sys.modules) + "\\n")
"""


def cpu_of(tree: Path, argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """User + system CPU seconds of one run of ``sitecare *argv`` from ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *argv],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    heavy = next((line[6:] for line in done.stderr.splitlines() if line.startswith("HEAVY ")), "?")
    return used, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, default=[], help="another tree")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    trees = [ROOT, *args.tree]
    with tempfile.TemporaryDirectory() as var_dir:
        env = {**os.environ, "SITECARE_VAR_DIR": var_dir}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        for tree in trees:  # one run each first: bytecode caches, settings' key files
            cpu_of(tree, ["--help"], env)
        samples: dict[tuple[Path, str], list[float]] = {}
        heavy: dict[tuple[Path, str], str] = {}
        for _ in range(args.runs):
            for argv in COMMANDS:
                for tree in trees:
                    key = (tree, " ".join(argv))
                    used, heavy[key] = cpu_of(tree, argv, env)
                    samples.setdefault(key, []).append(used)
    print(f"| tree | command | median user+sys CPU (s), {args.runs} runs | heavy modules loaded |")
    print("| --- | --- | ---: | --- |")
    for (tree, command), values in samples.items():
        print(
            f"| {tree} | `sitecare {command}` | {statistics.median(values):.2f} "
            f"| {heavy[(tree, command)] or '—'} |"
        )


if __name__ == "__main__":
    main()
