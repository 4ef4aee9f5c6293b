#!/usr/bin/env bash
# Submit a dataset job as N array tasks plus a merge that runs when all of them succeeded.
#   deploy/slurm/submit.sh N CONFIG.yaml CACHE_DIR
# CONFIG's output.dir and CACHE_DIR must be on storage every node sees.
set -euo pipefail
if [ $# -ne 3 ] || ! [ "$1" -ge 1 ] 2>/dev/null; then
    echo "usage: $0 N CONFIG.yaml CACHE_DIR   (N >= 1 shards)" >&2
    exit 2
fi
N="$1"; CONFIG="$(realpath "$2")"; CACHE="$(realpath -m "$3")"
here="$(cd "$(dirname "$0")" && pwd)"
export LONGFORM_CONFIG="$CONFIG" LONGFORM_CACHE_DIR="$CACHE"
shards=$(sbatch --parsable --array="0-$((N - 1))" --export=ALL "$here/dataset_shard.sbatch")
merge=$(sbatch --parsable --dependency="afterok:${shards%%;*}" --export=ALL "$here/dataset_merge.sbatch")
echo "shards: job $shards (array 0-$((N - 1))); merge: job $merge (after all shards succeed)"
