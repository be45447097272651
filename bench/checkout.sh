#!/usr/bin/env bash
# Checkout: slipway's warm checkout of a new commit (its libgit2 mirror
# fetch plus its kept work tree brought to the commit's tree,
# build/bench/slipway_checkout_bench calling the daemon's Checkout) against
# git clone, git clone --depth 1, git fetch into an existing mirror plus git
# archive | tar -x, and git fetch plus git checkout in a kept clone. A
# generated repository of 5,000 commits and about 50 MB, served by git daemon
# on a loopback port and over file://. Each timed run follows a new commit
# made by hyperfine's --prepare that changes one small file, as a merged pull
# request would; the clones and the archive write into an empty folder.
# Writes bench/results/checkout.md.
#
# Usage: bench/checkout.sh [RUNS (10)]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-10}
source bench/common.sh

bench/install-deps.sh
scripts/build.sh >/dev/null

bench_scratch checkout

# 400 files of 128 KiB of random bytes (50 MiB that do not compress), then
# 4,999 commits that each change a small file; written with git fast-import.
repo=$work/served/repo.git
git init -q --bare --initial-branch=main "$repo"
echo "generating the repository..." >&2
{
  echo "commit refs/heads/main"
  echo "committer bench <bench@localhost> 1735689600 +0000"
  echo "data 5"
  echo "bulk"
  printf 'M 644 inline images.json\ndata 2\n[]'
  echo
  for i in $(seq -w 1 400); do
    echo "M 644 inline data/blob$i"
    echo "data 131072"
    head -c 131072 /dev/urandom
    echo
  done
  for n in $(seq 2 5000); do
    echo "commit refs/heads/main"
    echo "committer bench <bench@localhost> $((1735689600 + n * 60)) +0000"
    echo "data 7"
    echo "change"
    line="commit $n $RANDOM$RANDOM"
    echo "M 644 inline src/file$((n % 50)).txt"
    echo "data ${#line}"
    echo "$line"
  done
} | git -C "$repo" fast-import --quiet
git -C "$repo" gc -q
commits=$(git -C "$repo" rev-list --count main)
size=$(du -sm "$repo" | cut -f1)

port=$(free_port)
git daemon --reuseaddr --export-all --base-path="$work/served" --listen=127.0.0.1 --port="$port" \
  --pid-file="$work/git-daemon.pid" "$work/served" >"$work/git-daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do git ls-remote "git://127.0.0.1:$port/repo.git" >/dev/null 2>&1 && break; sleep 0.1; done

# A new commit for each timed run, changing one small file (in --prepare, with
# the output folders emptied).
cat >"$work/prepare.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
rm -rf "$work/out"
mkdir -p "$work/out"
export GIT_INDEX_FILE="$work/prepare.index"
git -C "$repo" read-tree main
blob=\$(echo "change \$(date +%s%N)" | git -C "$repo" hash-object -w --stdin)
git -C "$repo" update-index --add --cacheinfo "100644,\$blob,src/merged.txt"
tree=\$(git -C "$repo" write-tree)
parent=\$(git -C "$repo" rev-parse main)
sha=\$(echo "bench \$(date +%s%N)" | git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit-tree "\$tree" -p "\$parent")
git -C "$repo" update-ref refs/heads/main "\$sha"
echo "\$sha" >"$work/head"
SCRIPT
chmod +x "$work/prepare.sh"
"$work/prepare.sh"

results=()
for transport in git file; do
  if [ "$transport" = git ]; then url="git://127.0.0.1:$port/repo.git"; else url="file://$repo"; fi
  # The existing mirrors and work trees, made once before timing.
  git clone -q --mirror "$url" "$work/mirror-$transport.git"
  git clone -q "$url" "$work/kept-$transport"
  build/bench/slipway_checkout_bench "$work/slipway-$transport" "$url" "$work/head"
  echo "$transport://: $runs runs per command..." >&2
  hyperfine --style basic --shell bash --runs "$runs" --warmup 1 --prepare "$work/prepare.sh" \
    --export-json "$work/$transport.json" \
    -n "git clone" "git clone -q $url $work/out/clone" \
    -n "git clone --depth 1" "git clone -q --depth 1 $url $work/out/shallow" \
    -n "git fetch + git archive | tar -x" \
       "git -C $work/mirror-$transport.git fetch -q origin && mkdir $work/out/tree && git -C $work/mirror-$transport.git archive \$(cat $work/head) | tar -x -C $work/out/tree" \
    -n "git fetch + git checkout in a kept clone" \
       "git -C $work/kept-$transport fetch -q origin && git -C $work/kept-$transport checkout -q -f \$(cat $work/head)" \
    -n "slipway Checkout (libgit2 fetch + checkout)" \
       "build/bench/slipway_checkout_bench $work/slipway-$transport $url $work/head" >&2
done

summary() {
  node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1])).results)
             console.log(r.median.toFixed(3), r.min.toFixed(3), r.max.toFixed(3));' "$1"
}
out=bench/results/checkout.md
mkdir -p bench/results
names=("git clone" "git clone --depth 1" "git fetch + git archive \\| tar -x" "git fetch + git checkout in a kept clone"
       "slipway Checkout (libgit2 fetch + checkout of its kept work tree)")
{
  echo "# Checkout of a new commit"
  echo
  echo "Run by \`bench/checkout.sh $runs\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "$(git --version), libgit2 $(pkg-config --modversion libgit2). Repository: $commits commits, $size MB packed"
  echo "(400 files of 128 KiB random bytes and 4,999 small changes). Each run follows a new commit that"
  echo "changes one small file; hyperfine, $runs runs per command after 1 warm-up. The fetch-based commands"
  echo "start from a mirror or clone that has every commit but the new one. The clones and the archive"
  echo "write into an empty folder; git checkout and slipway bring the work tree they kept from the"
  echo "previous commit to the new one, as slipwayd does from job to job. Median (min–max) in seconds."
  echo
  echo "| transport | command | median s | min–max s | slipway is ... x faster |"
  echo "|---|---|---:|---:|---:|"
  for transport in git file; do
    mapfile -t rows < <(summary "$work/$transport.json")
    read -r slipway _ _ <<<"${rows[4]}"
    for i in 0 1 2 3 4; do
      read -r median lo hi <<<"${rows[$i]}"
      ratio="—"
      [ "$i" -lt 4 ] && ratio=$(awk -v a="$median" -v b="$slipway" 'BEGIN {printf "%.2f", a / b}')
      echo "| $transport:// | ${names[$i]} | $median | $lo–$hi | $ratio |"
    done
  done
  echo
  echo "Targets: slipway within 1.2x of fetch + archive (its time at most 1.2 times that), and at least"
  echo "5x faster than a full clone."
  echo
  for transport in git file; do
    mapfile -t rows < <(summary "$work/$transport.json")
    read -r clone _ _ <<<"${rows[0]}"
    read -r archive _ _ <<<"${rows[2]}"
    read -r slipway _ _ <<<"${rows[4]}"
    verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
    echo "- $transport://: within 1.2x of fetch + archive $(verdict "$slipway <= 1.2 * $archive")" \
         "($(awk -v a="$slipway" -v b="$archive" 'BEGIN {printf "%.2f", a / b}')x its time);" \
         "5x faster than git clone $(verdict "$slipway * 5 <= $clone")" \
         "($(awk -v a="$clone" -v b="$slipway" 'BEGIN {printf "%.1f", a / b}')x)"
  done
} | tee "$out"
