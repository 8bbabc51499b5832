#!/usr/bin/env bash
# Runs the Python host's tests: the memory provider's contract against artifacts/provider.wasm
# and the composed wasm-dbms component against artifacts/composed.wasm, through wasmtime-py.
# Creates py-host/.venv when missing and installs the pinned requirements only when the
# installed ones differ. Ends with `py-host: N passed, M failed`; exits non-zero on a failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="$venv/bin/python"

if [ ! -x "$python" ]; then
    echo "py-host: creating $venv"
    python3 -m venv "$venv"
fi

# The pinned requirement, e.g. `wasmtime==50.0.1`, compared with what the venv has.
pinned_version() { sed -n 's/^wasmtime==//p' "$here/requirements.txt"; }
installed_version() {
    "$python" -c 'import importlib.metadata as m; print(m.version("wasmtime"))' 2>/dev/null || true
}
if [ "$(installed_version)" != "$(pinned_version)" ]; then
    echo "py-host: installing $(cat "$here/requirements.txt")"
    "$python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

# The components come from the repository's one build script; build them only when missing.
if [ ! -f "$root/artifacts/provider.wasm" ] || [ ! -f "$root/artifacts/composed.wasm" ]; then
    echo "py-host: building the components (artifacts/ is missing them)"
    "$root/scripts/setup.sh"
    "$root/scripts/build-components.sh"
fi

cd "$here"
exec "$python" -B runner.py contract dbms
