#!/usr/bin/env bash
# Install tdv into $HOME/.tdv with pip and put it on the PATH of later steps ($BASH_ENV).
set -euo pipefail

spec="${TDV_PACKAGE}${TDV_VERSION:+==${TDV_VERSION}}"
venv="$HOME/.tdv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
if [ -n "${BASH_ENV:-}" ]; then
  echo "export PATH=\"$venv/bin:\$PATH\"" >> "$BASH_ENV"
fi
"$venv/bin/tdv" --version
