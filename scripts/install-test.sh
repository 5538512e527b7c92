#!/usr/bin/env bash
# The install path a user takes, end to end: `npm pack` → `npm install -g <tarball>` into a
# throw-away prefix → the installed `tap-scarf`, `source-scarf` and `tap-scarf-sim` commands,
# run from outside the checkout (so nothing resolves back into it), against the installed
# simulator. Fails on a missing file in package.json `files`, a missing `bin`, a dependency
# that is only a devDependency, or a bin that cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tap-scarf-install.XXXXXX")
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "install-test: $*" >&2
  exit 1
}

version=$(node -p "require('./package.json').version")
# npm pack runs `prepare` (the build) first, so the tarball holds a fresh dist/.
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "install-test: packed $tarball"
# --prefer-offline: the dependencies are those `npm ci` just put in the npm cache.
npm install -g "$work/$tarball" --prefix "$work/prefix" --prefer-offline --no-audit --no-fund --loglevel=error
bindir="$work/prefix/bin"
for b in tap-scarf source-scarf tap-scarf-sim; do
  [ -x "$bindir/$b" ] || fail "npm install -g did not create the $b command"
done
cd "$work"

got=$("$bindir/tap-scarf" --version) || fail "tap-scarf --version exited non-zero"
[ "$got" = "tap-scarf $version" ] || fail "tap-scarf --version printed '$got', expected 'tap-scarf $version'"

"$bindir/tap-scarf" --discover >discover.json || fail "tap-scarf --discover exited non-zero"
streams=$(node -e "const c=JSON.parse(require('fs').readFileSync('discover.json','utf8'));console.log(c.streams.map(s=>s.tap_stream_id).sort().join(','))")
# The streams of the checkout's catalog.json: every declared stream, none lost in packing.
want=$(node -e "const c=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));console.log(c.streams.map(s=>s.tap_stream_id).sort().join(','))" "$repo/catalog.json")
[ "$streams" = "$want" ] || fail "tap-scarf --discover listed streams '$streams', catalog.json has '$want'"

"$bindir/source-scarf" spec >spec.out || fail "source-scarf spec exited non-zero"
grep -q '"type":"SPEC"' spec.out || fail "source-scarf spec printed no SPEC message"

# The installed simulator on a free port; it prints its URL once it listens.
"$bindir/tap-scarf-sim" --port 0 --token sim-token-install >sim.out 2>sim.err &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' sim.out 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || fail "tap-scarf-sim exited: $(cat sim.err)"
  sleep 0.1
done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' sim.out)
[ -n "$url" ] || fail "tap-scarf-sim printed no URL"

node -e "
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
require('fs').writeFileSync('config.json', JSON.stringify({
  api_token: 'sim-token-install', owner: 'acme-oss', base_url: process.argv[1], start_date: day(-3), end_date: day(-2),
}));" "$url"
set +e
"$bindir/tap-scarf" --config config.json >sync.out 2>sync.err
code=$?
set -e
[ "$code" = 0 ] || fail "tap-scarf sync exited $code: $(tail -n 5 sync.err)"
records=$(grep -c '"type":"RECORD"' sync.out || true)
states=$(grep -c '"type":"STATE"' sync.out || true)
[ "$records" -gt 0 ] || fail "the sync wrote no RECORD"
[ "$states" -gt 0 ] || fail "the sync wrote no STATE"
echo "install-test: OK (tap-scarf $version from $tarball: $records records, $states STATE lines against $url)"

# From a git URL, into a folder (npm 11's global install of a git dependency does not give
# `prepare` its devDependencies; README "Install"): npm clones the repository, installs its
# devDependencies and runs `prepare` (the build). A file:// URL of this checkout stands in for
# the hosted repository (no network here); it installs committed HEAD.
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  npm install --prefix "$work/prefix-git" "git+file://$repo" --prefer-offline --no-audit --no-fund --loglevel=error
  got=$("$work/prefix-git/node_modules/.bin/tap-scarf" --version) || fail "tap-scarf from a git URL: --version exited non-zero"
  [ "$got" = "tap-scarf $version" ] || fail "tap-scarf from a git URL printed '$got'"
  "$work/prefix-git/node_modules/.bin/tap-scarf" --config config.json >sync-git.out 2>sync-git.err ||
    fail "tap-scarf from a git URL: the sync failed: $(tail -n 5 sync-git.err)"
  grep -q '"type":"RECORD"' sync-git.out || fail "tap-scarf from a git URL wrote no RECORD"
  echo "install-test: OK (tap-scarf $version from git+file://$repo)"
fi
