#!/usr/bin/env bash
# The Python environments of the ecosystem checks (`npm run test:ecosystem`) and of the bench's
# Meltano scenario, from the package index:
#   .pyenvs/meltano   Meltano (test/ecosystem/requirements-meltano.txt)
#   .pyenvs/airbyte   PyAirbyte (test/ecosystem/requirements-airbyte.txt)
# .ci/run runs it; developers run it once (`bash scripts/python-env.sh`), and again after a
# requirements file changes. Idempotent: an environment whose requirements file, Python and
# this script are unchanged is kept as it is. Needs python3 (3.10 or newer) with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${TAP_SCARF_PYTHON:-python3}
ROOT=.pyenvs
mkdir -p "$ROOT"

py_version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
case "$py_version" in
  3.1[0-9].*) ;;
  *) echo "python-env: $PYTHON is Python $py_version; Meltano and PyAirbyte need 3.10 or newer (set TAP_SCARF_PYTHON)" >&2; exit 1 ;;
esac

# uv installs the environments: one resolver run per environment instead of pip's, and the
# download cache is shared with the venvs Meltano makes for its plugins.
if [ ! -x "$ROOT/uv/bin/uv" ]; then
  echo "python-env: installing uv into $ROOT/uv"
  "$PYTHON" -m venv --clear "$ROOT/uv"
  "$ROOT/uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.10"
fi
UV="$ROOT/uv/bin/uv"

for name in meltano airbyte; do
  req="test/ecosystem/requirements-$name.txt"
  want=$(cat "$req" "$0" | sha256sum | cut -d' ' -f1)-$py_version
  stamp="$ROOT/$name/.tap-scarf-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$ROOT/$name/bin/python" ]; then
    echo "python-env: $ROOT/$name is up to date"
    continue
  fi
  echo "python-env: creating $ROOT/$name from $req"
  rm -rf "$ROOT/$name"
  "$UV" venv --quiet --python "$PYTHON" "$ROOT/$name"
  VIRTUAL_ENV="$ROOT/$name" "$UV" pip install --quiet -r "$req"
  echo "$want" >"$stamp"
done
"$ROOT/meltano/bin/meltano" --version 2>/dev/null | tail -n 1
"$ROOT/airbyte/bin/python" -c 'import importlib.metadata as m; print("airbyte, version", m.version("airbyte"))'
