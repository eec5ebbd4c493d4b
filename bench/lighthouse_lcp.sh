#!/bin/bash
# Lighthouse's LCP of the demo home page, ten runs, beside bench/browser.py's stability figure.
#
# Run by hand (not part of the test suite; needs npm and the registry, Debian's Chromium):
#     bash bench/lighthouse_lcp.sh            # ten runs
#     RUNS=3 bash bench/lighthouse_lcp.sh
#
# 1. Install Lighthouse 12 into a temporary directory (nothing in the repository changes).
# 2. Start the demo shop (`sitecare demo-site`) on a free loopback port, in a throw-away var dir.
# 3. Run Lighthouse with its defaults (mobile, simulated throttling, one load a run) on the
#    shop's home page RUNS times with Debian's Chromium; print each LCP, the mean, the
#    coefficient of variation and the CPU seconds of the whole run.
set -euo pipefail
RUNS=${RUNS:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/bench-lighthouse-XXXXXX)
trap 'kill -- -$SHOP 2>/dev/null || true; rm -rf "$WORK"' EXIT
(cd "$WORK" && npm init -y >/dev/null && npm i --no-audit --no-fund --loglevel=error lighthouse@12 >/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$ROOT"
SITECARE_VAR_DIR="$WORK/var" setsid python3 -m uv run --frozen sitecare demo-site --port "$PORT" >"$WORK/shop.log" 2>&1 &
SHOP=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.2; done
FLAGS="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"
START=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
for i in $(seq "$RUNS"); do
  CHROME_PATH=/usr/bin/chromium "$WORK/node_modules/.bin/lighthouse" "http://127.0.0.1:$PORT/" \
    --only-categories=performance --output=json --output-path="$WORK/run$i.json" --quiet \
    --chrome-flags="$FLAGS" >/dev/null 2>&1
done
CPU=$(awk -v s="$START" -v t="$(getconf CLK_TCK)" '{print ($14+$15+$16+$17-s)/t}' /proc/$$/stat)
node -e '
const runs = process.argv.slice(2).map((f) => require(f).audits["largest-contentful-paint"].numericValue);
const mean = runs.reduce((a, b) => a + b) / runs.length;
const sd = Math.sqrt(runs.reduce((a, b) => a + (b - mean) ** 2, 0) / (runs.length - 1));
console.log("LCP (ms):", runs.map((v) => v.toFixed(0)).join(", "));
console.log(`mean ${mean.toFixed(0)} ms, coefficient of variation ${(100 * sd / mean).toFixed(1)} %`);
' $(for i in $(seq "$RUNS"); do echo "$WORK/run$i.json"; done)
echo "CPU seconds per run: $(awk -v c="$CPU" -v n="$RUNS" 'BEGIN {printf "%.1f", c / n}')"
