#!/usr/bin/env bash
# The README's main command: set up, then run the accelerated-vs-stock
# LiteLLM benchmark on the built-in workload (no API keys, no network).
# Extra arguments go to `fast-litellm bench` (e.g. --json out.json --plot out.png).
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True
./scripts/setup.sh
. scripts/_python.sh
# fast-litellm 0.1.10 (PyPI) as a benchmark peer, in its own venv (it has our package name)
PEER="${FAST_LITELLM_PEER_VENV:-$HOME/.cache/fast-litellm/peer-0.1.10}"
if ! "$PEER/bin/python" -c "import fast_litellm" >/dev/null 2>&1; then  # also a half-made one
    (python3 -m venv "$PEER" && "$PEER/bin/pip" install -q --disable-pip-version-check fast-litellm==0.1.10) \
        || echo "warning: fast-litellm 0.1.10 peer not installed; bench reports it as not available"
fi
export FAST_LITELLM_PEER_VENV="$PEER"
python3 -m fast_litellm doctor --import-litellm
if python3 -c "import fast_litellm.bench" 2>/dev/null; then
    exec python3 -m fast_litellm bench --quick "$@"
else
    exec python3 -m fast_litellm demo
fi
