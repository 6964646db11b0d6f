#!/usr/bin/env bash
# Every figure of issue 5 that needs the 16-core machine, in one run. Prepare HERE first with
# bench/device-prepare.sh, then run on the device, in the repo root, with carry [".carry"]:
#     bash bench/device.sh
# Output goes to stdout and to $OUT/device.log. Each part is independent (a failure or a timeout
# loses only that part) and has its own time limit, all inside a TOTAL budget (default 400 s).
# QUICK=1 runs every part with tiny settings (a local test of this script).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
LOG=$OUT/device.log
: > "$LOG"
QUICK=${QUICK:-0}
TOTAL=${TOTAL:-400}
T0=$(date +%s)
NODE=/tmp/node
PYTHON=${PYTHON:-python3}
export PYTHON PYTHONUNBUFFERED=1

log() { echo "$*" | tee -a "$LOG"; }

# part NAME LIMIT_S COMMAND...: runs COMMAND with a time limit (capped by what is left of TOTAL), logged.
part() {
  local name=$1 limit=$2
  shift 2
  local left=$(( TOTAL - ($(date +%s) - T0) ))
  (( limit > left )) && limit=$left
  if (( limit < 10 )); then
    log "=== [$(date -u +%T)] $name: SKIPPED, ${left} s left of TOTAL=${TOTAL}"
    return
  fi
  log "=== [$(date -u +%T)] $name (limit ${limit} s): $*"
  local start rc
  start=$(date +%s)
  timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  log "=== [$(date -u +%T)] $name: exit ${rc}$( ((rc == 124)) && echo ' (TIMED OUT)') after $(( $(date +%s) - start )) s"
}

log "device.sh started $(date -u +%FT%TZ), QUICK=${QUICK}, TOTAL=${TOTAL} s"
xz -dc .carry/node.xz > "$NODE" && chmod +x "$NODE" || log "cannot unpack .carry/node.xz"
rm -rf /tmp/app && xz -dc .carry/app.tar.xz | tar -x -C /tmp || log "cannot unpack .carry/app.tar.xz"
APP=/tmp/app
BENCH="$APP/dist/bench/bench.js"
export NUMPY_PEER=$ROOT/.carry/peers/numpy_rnn.py PEERS_DATA=$ROOT/.carry/peers/data TORCH_PEER=$ROOT/bench/peers/torch_rnn.py
# Settings some images make for old OpenBLAS builds; they slow a current numpy, so unset both.
log "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset} (unset for this run)"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

machine_info() {
  echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
  free -g | head -2
  echo "node $("$NODE" --version)"
  "$PYTHON" -c 'import platform, numpy, torch; print("python", platform.python_version(), "numpy", numpy.__version__, "torch", torch.__version__, "torch threads", torch.get_num_threads())'
}

# Steps per run so that one run at one thread lasts about SECONDS, from a short probe run.
# probe_steps STREAMS SECONDS FALLBACK
probe_steps() {
  local json rate
  json=$(timeout 90 "$NODE" "$APP/dist/bench/run-one.js" --streams "$1" --threads 1 --steps "$( ((QUICK)) && echo 2 || echo 30)" | tail -1)
  rate=$(echo "$json" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(Math.round(JSON.parse(s).charsPerSec))}catch{console.log(0)}})')
  if (( rate > 0 )); then
    local steps=$(( rate * $2 / ($1 * 25) ))
    (( steps < 5 )) && steps=5
    (( steps > 20000 )) && steps=20000
    echo "$steps"
    echo "probe: streams $1, 1 thread: ${rate} chars/s -> ${steps} steps a run" | tee -a "$LOG" >&2
  else
    echo "$3"
    echo "probe failed (${json:-no output}); using ${3} steps" | tee -a "$LOG" >&2
  fi
}

if ((QUICK)); then
  THREADS64=1,2; THREADS16=1,2; TORCH_THREADS=1; RUNS=1; PEER_CHARS=20000; MEM_MB=5; MEM_THREADS=1,2; SECONDS_A_RUN=1
else
  THREADS64=1,2,4,8,15,16; THREADS16=1,2,16; TORCH_THREADS=1,4,16; RUNS=3; PEER_CHARS=400000; MEM_MB=100; MEM_THREADS=1,2,4,8; SECONDS_A_RUN=2
fi

log "=== [$(date -u +%T)] machine"
machine_info 2>&1 | tee -a "$LOG"
part "torch_rnn.py gradcheck (hand-written gradients vs autograd)" 60 "$PYTHON" bench/peers/torch_rnn.py --gradcheck
log "=== [$(date -u +%T)] probes"
STEPS64=$(probe_steps 64 "$SECONDS_A_RUN" 100)
STEPS16=$(probe_steps 16 "$SECONDS_A_RUN" 300)

# Target 3: 16 threads vs 1 thread at 64 streams, numpy at 1 and 16 BLAS threads, PyTorch f64 and
# f32 at 1, 4 and 16 threads; --scale-steps keeps every run about SECONDS_A_RUN long.
part "64 streams: ours 1-16 threads, numpy, torch" 240 "$NODE" "$BENCH" \
  --streams 64 --steps "$STEPS64" --scale-steps --threads-list "$THREADS64" --runs "$RUNS" \
  --numpy-threads "1,$( ((QUICK)) && echo 2 || echo 16)" --torch "$TORCH_PEER" --torch-threads "$TORCH_THREADS" \
  --torch-dtypes float64,float32 --peer-chars "$PEER_CHARS" --training-only
# The promise behind every figure: 16 threads give the bits of 1 thread.
part "same numbers: 1 vs 16 threads, 64 streams" 60 "$NODE" "$APP/dist/bench/same-numbers.js" "$PEERS_DATA/sotu_train.txt" "$( ((QUICK)) && echo 2 || echo 16)"
# Target 4: peak RSS against the thread count on a 100 MB corpus.
part "memory: 100 MB corpus, 1-8 threads" 90 "$NODE" "$BENCH" --memory --mb "$MEM_MB" --threads-list "$MEM_THREADS" --eval-mb 0
# Targets 1 and 2 as measured on this machine: 16 streams and the 1-stream row, numpy beside.
part "16 streams: ours 1, 2, 16 threads, numpy" 120 "$NODE" "$BENCH" \
  --streams 16 --steps "$STEPS16" --scale-steps --threads-list "$THREADS16" --runs "$RUNS" --peer-chars "$PEER_CHARS" --training-only

log "device.sh finished $(date -u +%FT%TZ) after $(( $(date +%s) - T0 )) s"
