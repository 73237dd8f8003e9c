#!/usr/bin/env bash
# The inference-server check of issue 18, for a machine with an NVIDIA GPU and vLLM installed
# (`pip install vllm`; not in requirements: the workbench needs no GPU). From the repo root:
#
#     MODEL=HuggingFaceTB/SmolLM2-1.7B-Instruct bash bench/gpu/vllm_check.sh     # or MODEL=/path/to/local/model
#
# 1. starts `vllm serve $MODEL` on 127.0.0.1:8000 and waits for /v1/models;
# 2. bench/gpu/vllm_stream.py: first token and tokens/s straight from the server, 1 / 20 / 100 users;
# 3. bench/replicas.py with the openai generator: the app (1 and 2 replicas on one PostgreSQL) with
#    20 and then 100 concurrent clients doing chat + feedback + project tasks against that server;
# 4. the reply evaluation (`eval replies`) of the served model against the template, on ReDial test turns.
# Results: bench/results/vllm_stream.json, replicas_vllm_20.json, replicas_vllm_100.json,
# eval_replies_vllm.json; logs in $OUT.
set -uo pipefail
MODEL=${MODEL:-HuggingFaceTB/SmolLM2-1.7B-Instruct}
PORT=${PORT:-8000}
OUT=${OUT:-/tmp/vllm_check}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || { echo "no NVIDIA GPU"; exit 3; }
command -v vllm >/dev/null || { echo "vllm is not installed (pip install vllm)"; exit 3; }
vllm serve "$MODEL" --host 127.0.0.1 --port "$PORT" --max-model-len 4096 >"$OUT/vllm.log" 2>&1 &
VLLM_PID=$!
trap 'kill $VLLM_PID 2>/dev/null; wait $VLLM_PID 2>/dev/null' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break
  kill -0 $VLLM_PID 2>/dev/null || { echo "vllm exited:"; tail -30 "$OUT/vllm.log"; exit 4; }
  sleep 2
done
curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null || { echo "vllm did not come up"; tail -30 "$OUT/vllm.log"; exit 4; }
BASE="http://127.0.0.1:$PORT/v1"
python bench/gpu/vllm_stream.py --base-url "$BASE" --model "$MODEL" --users 1,20,100 | tee "$OUT/stream.txt"
for USERS in 20 100; do
  python bench/replicas.py --generator openai --openai-base-url "$BASE" --openai-model "$MODEL" \
      --clients "$USERS" --tasks $((USERS * 3)) --out "replicas_vllm_$USERS.json" | tee "$OUT/replicas_$USERS.txt"
done
WORKBENCH_OPENAI_BASE_URL="$BASE" python -m workbench eval replies --data "${REDIAL_TEST:-../shared/data/redial/test.jsonl}" \
    --model template --model "openai:$MODEL" --n "${REPLIES_N:-100}" --json bench/results/eval_replies_vllm.json \
    | tee "$OUT/eval_replies.txt"
cp bench/results/vllm_stream.json bench/results/replicas_vllm_*.json bench/results/eval_replies_vllm.json "$OUT"/ 2>/dev/null
