#!/usr/bin/env bash
# Run every config of a configs file (one JSON per line) concurrently on one GPU; results append to $2.
# usage: DATA=.sweep bash scripts/recipe-sweep/run.sh scripts/recipe-sweep/configs-round1.txt results.jsonl
set -u
here=$(dirname "$0")
i=0
while read -r c; do
  python3 "$here/sweep.py" "$c" "$2" > "/tmp/sweep_$i.log" 2>&1 &
  i=$((i+1))
done < "$1"
wait
cat "$2"
