// `npm run bench`: runs every bench/*.bench.ts in turn (each in its own process, so one bench's
// memory does not skew the next) and prints their reports. Performance lives here, never in tests.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const directory = import.meta.dirname;
const only = process.argv.slice(2);
const benches = fs
  .readdirSync(directory)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
  .sort();

let failed = 0;
for (const name of benches) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(directory, name)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
// exitCode, not exit(): a report piped to a file or `tee` must arrive whole.
process.exitCode = failed === 0 ? 0 : 1;
