#!/bin/sh
# `npm test`: everything, in two lanes that keep both cores busy (issue 9: under two minutes on a
# quiet 2-core machine). Lane 1 is the suite on Node (two files at a time); lane 2 runs the
# typecheck, then the suite on Bun (one process, one file at a time, often waiting on sockets and
# children), then builds the binary and runs test/e2e. Lane 1's output is kept in a file and printed
# whole when both lanes are done, so the two never interleave; the exit status fails if either did.
set -u

log=$(mktemp "${TMPDIR:-/tmp}/cvs-issue-test-node.XXXXXX")
npm run test:node >"$log" 2>&1 &
node_lane=$!
trap 'kill "$node_lane" 2>/dev/null; rm -f "$log"; exit 130' INT TERM

npm run typecheck && npm run test:bun && npm run test:e2e
other_lanes=$?

wait "$node_lane"
node_status=$?
echo
echo "==== npm run test:node (ran alongside the lanes above) ===="
cat "$log"
rm -f "$log"

echo
echo "npm test: test:node exit $node_status; typecheck, test:bun, test:e2e exit $other_lanes"
[ "$node_status" -eq 0 ] && [ "$other_lanes" -eq 0 ]
