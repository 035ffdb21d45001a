#!/bin/sh
# `npm test`: everything, in two lanes that keep both cores busy (issue 9). Lane 1 builds the
# binary, runs the suite on Node (two files at a time), then most of the binary's end-to-end tests;
# lane 2 runs the typecheck, the suite on Bun (one process, one file at a time, often waiting on
# sockets and children), then the other end-to-end tests, once lane 1 has built the binary. The
# split is by measured time, so the two lanes end together. Lane 1's output is kept in a file and
# printed whole when both lanes are done, so the two never interleave; the exit status fails if
# either did.
set -u

# The end-to-end files lane 2 runs (about 15 s of the 45 s); lane 1 runs the rest.
e2e_lane2="test/e2e/audit.test.ts test/e2e/pipe.test.ts test/e2e/crash.test.ts"
e2e_lane1=""
for file in test/e2e/*.test.ts; do
  case " $e2e_lane2 " in
    *" $file "*) ;;
    *) e2e_lane1="$e2e_lane1 $file" ;;
  esac
done

log=$(mktemp "${TMPDIR:-/tmp}/cvs-issue-test-node.XXXXXX")
built="$log.built"
started=$(date +%s)
(npm run build && touch "$built" && npm run test:node && node --import tsx --test --test-concurrency=2 $e2e_lane1; status=$?; echo "lane 1 took $(($(date +%s) - started)) s"; exit $status) >"$log" 2>&1 &
node_lane=$!
trap 'kill "$node_lane" 2>/dev/null; rm -f "$log" "$built"; exit 130' INT TERM

# Waits for lane 1's build (long done by the time the Bun suite ends); fails if lane 1 stopped first.
binary_built() {
  while [ ! -e "$built" ] && kill -0 "$node_lane" 2>/dev/null; do sleep 1; done
  [ -e "$built" ] || { echo "npm test: the binary was not built (see lane 1 below); its end-to-end tests in this lane did not run" >&2; return 1; }
}

npm run typecheck && npm run test:bun && binary_built && node --import tsx --test --test-concurrency=2 $e2e_lane2
other_lanes=$?
echo "lane 2 took $(($(date +%s) - started)) s"

wait "$node_lane"
node_status=$?
echo
echo "==== npm run build, test:node, then test/e2e (ran alongside the lane above) ===="
cat "$log"
rm -f "$log" "$built"

echo
echo "npm test: build, test:node, e2e exit $node_status; typecheck, test:bun, e2e exit $other_lanes"
[ "$node_status" -eq 0 ] && [ "$other_lanes" -eq 0 ]
