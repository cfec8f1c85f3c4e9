# Sourced by setup.sh, run.sh and test.sh: the Python they use.
# A system Python marked externally managed (PEP 668: Debian 12+, Ubuntu
# 23.04+) refuses `pip install`; there setup.sh makes a venv in .venv and
# every script uses it.  Inside a venv (or conda, pyenv ...) nothing changes.
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/python3 ]; then
    . .venv/bin/activate
fi
