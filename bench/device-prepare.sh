#!/usr/bin/env bash
# Run HERE (not on the device), from anywhere in the repo: builds, then fills .carry/ with what
# bench/device.sh needs on the 16-core machine, which has no Node.js and no network:
#   .carry/node.xz      this machine's node binary, xz-compressed
#   .carry/app.tar.xz   app/: a production install (npm ci --omit=dev) plus the package's "files"
#                       (dist/src, dist/workers, proto, ...) and dist/bench; packed because the
#                       bundled corpus alone is 22 MB of text (about 40 MB unpacked in all)
#   .carry/peers/       copies of numpy_rnn.py and its data (from $PEERS_DIR, default ../shared/peers)
# bench/peers/torch_rnn.py travels with the working tree. Prints the `carry` list for the device call.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS_DIR=${PEERS_DIR:-../shared/peers}
LIMIT_MIB=60

npm run build
grep -qxF '.carry/' .git/info/exclude || echo '.carry/' >> .git/info/exclude
rm -rf .carry
mkdir -p .carry/peers
APP_PARENT=$(mktemp -d)
trap 'rm -rf "$APP_PARENT"' EXIT
APP=$APP_PARENT/app
mkdir -p "$APP"

echo "compressing $(command -v node) ($(node --version))"
xz -T2 -9 -c "$(command -v node)" > .carry/node.xz

cp package.json package-lock.json "$APP/"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
# The package's own files (as npm would publish them), and the benchmark's compiled scripts.
node -e 'for (const f of require("./package.json").files ?? []) console.log(f)' | while read -r entry; do
  mkdir -p "$APP/$(dirname "$entry")"
  cp -r "$entry" "$APP/$entry"
done
mkdir -p "$APP/dist"
cp -r dist/bench "$APP/dist/bench"
find "$APP/dist" \( -name '*.map' -o -name '*.d.ts' \) -delete
# A smoke test of the production install (no dev dependencies), then pack it.
node "$APP/dist/bench/run-one.js" --streams 4 --threads 1 --steps 2 > /dev/null
tar -C "$APP_PARENT" -cf - app | xz -T2 -9 > .carry/app.tar.xz

cp "$PEERS_DIR/numpy_rnn.py" .carry/peers/
cp -r "$PEERS_DIR/data" .carry/peers/data
chmod -R u+w .carry/peers

# The working tree travels too (tracked files and untracked ones git does not ignore).
carry_bytes=$(du -sb .carry | cut -f1)
tree_bytes=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r du -cb 2>/dev/null | awk '$2 == "total" { s += $1 } END { print s + 0 }')
total_mib=$(( (carry_bytes + tree_bytes) / 1048576 ))
du -sh "$APP/node_modules" "$APP/dist" .carry/node.xz .carry/app.tar.xz .carry/peers
echo ".carry: $(( carry_bytes / 1048576 )) MiB; working tree: $(( tree_bytes / 1048576 )) MiB; together ${total_mib} MiB (limit ${LIMIT_MIB} MiB, the device takes 64)"
if (( total_mib >= LIMIT_MIB )); then
  echo "too large: trim .carry before calling the device" >&2
  exit 1
fi

echo
echo 'carry: [".carry"]'
echo 'command: bash bench/device.sh'
