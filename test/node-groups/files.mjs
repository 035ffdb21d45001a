// Prints the files `npm run test:node` hands to `node --test`: the test files that take seconds of
// CPU each, one process apiece as before, and two group files that import every other test file
// (half each, by sorted position) into one process each. Each `node --import tsx` process costs ~0.5 s of CPU before its
// first test, and most test files run in well under that (issue 9). Bun runs every file in one
// process, so the files already tolerate sharing one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Several seconds each under Node, much of it waiting on pcscd, cupsd or a real init's keys (issue 9):
 * own process, run alongside the rest. The others share two processes: each process costs about a
 * second of CPU (node, tsx, the program's modules) before its first test, so the CPU-heavy pure
 * files (merkle, audit-entry) and the cmd files share them too.
 */
export const OWN_PROCESS = [
  'test/cmd/simulate.test.ts',
  'test/cmd/init-load.test.ts',
  'test/drivers/card/pcsc.test.ts',
  'test/cmd/kiosk-pcsc.test.ts',
  'test/cmd/kiosk-cups.test.ts',
  'test/drivers/printer/cups-printer.test.ts',
];

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every test file of the suite, sorted, relative to the repository. */
export function suiteFiles() {
  return ['test/core', 'test/drivers', 'test/cmd']
    .flatMap((dir) => fs.readdirSync(path.join(ROOT, dir), { recursive: true }).map((name) => path.join(dir, String(name))))
    .filter((file) => file.endsWith('.test.ts'))
    .sort();
}

/** The files group `index` (0 or 1) imports. */
export function groupFiles(index) {
  return suiteFiles().filter((file) => !OWN_PROCESS.includes(file)).filter((_, position) => position % 2 === index);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of OWN_PROCESS) if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`test/node-groups/files.mjs: ${file} is gone`);
  // Longest first, so that two at a time end together: the simulation, the two groups, then the others.
  const [first, ...rest] = OWN_PROCESS;
  console.log([first, 'test/node-groups/group-0.ts', 'test/node-groups/group-1.ts', ...rest].join('\n'));
}
