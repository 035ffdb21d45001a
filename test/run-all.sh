#!/bin/sh
# `npm test`: everything, in two lanes that keep both cores busy (issue 9). Lane 1 builds the
# binary, runs the suite on Node (two files at a time), then the binary's end-to-end tests; lane 2
# runs the typecheck, then the suite on Bun (one process, one file at a time, often waiting on
# sockets and children). The two take about as long. Lane 1's output is kept in a file and printed
# whole when both lanes are done, so the two never interleave; the exit status fails if either did.
set -u

log=$(mktemp "${TMPDIR:-/tmp}/cvs-issue-test-node.XXXXXX")
started=$(date +%s)
(npm run build && npm run test:node && node --import tsx --test --test-concurrency=2 test/e2e/*.test.ts; status=$?; echo "lane 1 took $(($(date +%s) - started)) s"; exit $status) >"$log" 2>&1 &
node_lane=$!
trap 'kill "$node_lane" 2>/dev/null; rm -f "$log"; exit 130' INT TERM

npm run typecheck && npm run test:bun
other_lanes=$?
echo "lane 2 took $(($(date +%s) - started)) s"

wait "$node_lane"
node_status=$?
echo
echo "==== npm run build, test:node, then test/e2e (ran alongside the lane above) ===="
cat "$log"
rm -f "$log"

echo
echo "npm test: build, test:node, e2e exit $node_status; typecheck, test:bun exit $other_lanes"
[ "$node_status" -eq 0 ] && [ "$other_lanes" -eq 0 ]
