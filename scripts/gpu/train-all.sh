#!/usr/bin/env bash
# The whole headline-accuracy training on one GPU machine, as run for the shipped model:
# teacher (MPNet-base) -> soft labels -> distilled students, each with its model card.
#
#   STAGE=/tmp/finsent-stage OUT=/tmp/out bash scripts/gpu/train-all.sh
#
# STAGE holds what travelled (models/README.md "Training on a GPU machine"): data/, the
# encoder shards c*/ + files/ + unpack.py from ../shared/tools/gpu-weights, and wheels
# in whl/. Results land in OUT as they are made, so a run stopped early still returns the
# stages it finished: a-teacher.tgz (soft labels, teacher card), b-<student>.tgz.part*
# (scripts/gpu/pack_student.py archives, split to 15 MB), log.txt.
# DRY=1 runs the same steps with tiny settings on a CPU (for testing this script).
set -euo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
STAGE=${STAGE:-/tmp/finsent-stage}
OUT=${OUT:?set OUT to the folder that comes back}
WORK=${WORK:-/tmp/finsent-gpu}
DRY=${DRY:-0}
STUDENTS=${STUDENTS:-"L6:6 L4:4"}
BUDGET_S=${BUDGET_S:-430}
START=$(date +%s)
exec > >(tee -a "$OUT/log.txt") 2>&1

python3 - "$DRY" <<'PY'
import sys, time, torch
dry = sys.argv[1] == "1"
if not torch.cuda.is_available() and not dry:
    print("no CUDA device: stopping", flush=True)
    sys.exit(3)
if torch.cuda.is_available():
    x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize(); t = time.time()
    for _ in range(20): x @ x
    torch.cuda.synchronize()
    print(f"device: {torch.cuda.get_device_name(0)}, bf16 matmul "
          f"{20 * 2 * 8192**3 / (time.time() - t) / 1e12:.0f} TFLOP/s", flush=True)
PY

mkdir -p "$WORK" /tmp/site /tmp/cache
if [ "$DRY" != 1 ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$STAGE"/whl/*.whl
    python3 "$STAGE/unpack.py" "$STAGE"/c*/ --files "$STAGE/files" --cache /tmp/cache --site /tmp/site
    export FINSENT_MODEL_CACHE=/tmp/cache
fi
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
DATA=$STAGE/data
M="python3 -m models.cli"
elapsed() { echo $(($(date +%s) - START)); }

FINSENT_TEST_DATA_DIR=$DATA python3 -m pytest --noconftest -q -p no:cacheprovider \
    tests/models/test_device.py || echo "device test FAILED"

if [ "$DRY" = 1 ]; then
    TEACHER=(--model tiny --max-train-examples 256 --epochs 1)
    SMALL=(--max-train-examples 256 --epochs 0.5)
else
    TEACHER=(--epochs 3)
    SMALL=(--epochs 3)
fi

echo "== teacher ($(elapsed) s)"
$M train-teacher "${TEACHER[@]}" --output-dir "$WORK/teacher" --data-dir "$DATA" \
    --checkpoint-every 100000 --no-validate
$M distill --teacher "$WORK/teacher" --soft-labels "$WORK/teacher_logits.npz" --relabel \
    --labels-only --data-dir "$DATA"
$M evaluate --model "$WORK/teacher" --card-dir "$WORK/cards/teacher" --no-lexicon --data-dir "$DATA"
tar czf "$OUT/a-teacher.tgz" -C "$WORK" teacher_logits.npz cards/teacher \
    teacher/train_summary.json teacher/train_config.json

for spec in $STUDENTS; do
    name=student-${spec%%:*}
    layers=${spec##*:}
    if [ "$(elapsed)" -gt "$BUDGET_S" ]; then
        echo "== skipping $name: $(elapsed) s spent of $BUDGET_S"
        continue
    fi
    echo "== $name ($(elapsed) s)"
    $M distill --soft-labels "$WORK/teacher_logits.npz" --output-dir "$WORK/$name" \
        --num-layers "$layers" "${SMALL[@]}" --data-dir "$DATA" --checkpoint-every 100000
    $M evaluate --model "$WORK/$name" --card-dir "$WORK/$name/card" --no-lexicon --data-dir "$DATA"
    python3 scripts/gpu/pack_student.py "$WORK/$name/model" "$WORK/$name.tgz"
    split -b 15M -d "$WORK/$name.tgz" "$OUT/b-$name.tgz.part"
done
echo "== done ($(elapsed) s)"
