#!/usr/bin/env bash
# Run a dataset job on Kubernetes: N shard pods, then the merge.
#   N=8 IMAGE=registry/longform:0.1 CONFIG=/data/configs/job.yaml PVC=longform-data \
#   CACHE_DIR=/data/cache deploy/kubernetes/run.sh
# CONFIG and its output.dir live on the volume PVC, mounted at /data in every pod.
set -euo pipefail
: "${N:?}" "${IMAGE:?}" "${CONFIG:?}" "${PVC:?}"
export CACHE_DIR="${CACHE_DIR:-/data/cache}"
here="$(cd "$(dirname "$0")" && pwd)"
fields='${N} ${IMAGE} ${CONFIG} ${PVC} ${CACHE_DIR}'  # only these: the pods' own $VARIABLES stay
envsubst "$fields" < "$here/dataset-job.yaml" | kubectl apply -f -
kubectl wait --for=condition=complete --timeout=48h job/longform-dataset
envsubst "$fields" < "$here/dataset-merge.yaml" | kubectl apply -f -
kubectl wait --for=condition=complete --timeout=2h job/longform-dataset-merge
