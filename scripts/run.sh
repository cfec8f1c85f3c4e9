#!/usr/bin/env bash
# The README's main command: set up, then run the accelerated-vs-stock
# LiteLLM benchmark on the built-in workload (no API keys, no network).
# Extra arguments go to `fast-litellm bench` (e.g. --json out.json --plot out.png).
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True
./scripts/setup.sh
python3 -m fast_litellm doctor
if python3 -c "import fast_litellm.bench" 2>/dev/null; then
    exec python3 -m fast_litellm bench --quick "$@"
else
    exec python3 -m fast_litellm demo
fi
