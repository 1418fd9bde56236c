#!/bin/sh
# The merge step of scripts/slurm/score.sbatch (and of the Kubernetes Indexed Job in
# configs/deploy/batch-job.yaml, whose parts are named the same way): checks that every one of
# the N part files is there, then concatenates them in shard order into OUT. Records are
# whole lines (ptjs run never leaves half a record), so concatenation is the whole merge; the
# result is in shard order, not input order, which ptjs eval and ptjs compare do not mind
# (they match inputs by path). A task still running or never run shows as a missing part.
#
#   scripts/slurm/merge.sh N OUTDIR OUT      (OUT may be - for stdout)
set -eu
if [ $# -ne 3 ]; then
  echo "usage: merge.sh N OUTDIR OUT" >&2
  exit 2
fi
shards=$1 dir=$2 out=$3
missing=""
i=0
while [ "$i" -lt "$shards" ]; do
  [ -f "$dir/part-$i.jsonl" ] || missing="$missing $i"
  i=$((i + 1))
done
if [ -n "$missing" ]; then
  echo "merge.sh: no part file for shard(s)$missing in $dir: those tasks have not run (resubmit them)" >&2
  exit 1
fi
i=0
parts=""
while [ "$i" -lt "$shards" ]; do
  parts="$parts $dir/part-$i.jsonl"
  i=$((i + 1))
done
# shellcheck disable=SC2086
if [ "$out" = - ]; then cat $parts; else cat $parts > "$out"; fi
echo "merge.sh: $(cat $parts | wc -l) records from $shards parts" >&2
