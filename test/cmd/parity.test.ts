// Proves Node (one thread) and the parse worker (Bun: the binary's code path) answer every
// malformed-input fixture alike: the same exit code and the same FILE:LINE messages. The runtime
// that runs this file answers in process (it takes its own path: Node one thread, Bun the worker).
// Under Node, Bun answers too, as a child process, so test:node compares both paths; under Bun
// only the worker's path is checked, in process: a Node child per case (tsx compiling the whole
// program) cost seven seconds of CPU to repeat what test:node compares (issue 9).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { run } from './cli-fixture.ts';
import { MALFORMED_CASES, RECONCILE_ARGS, stderrLines, writeCase } from './malformed-fixtures.ts';

const root = path.resolve(import.meta.dirname, '../..');
const entry = path.join(root, 'cmd/cvs-issue.ts');
const bun = path.join(root, 'node_modules/.bin/bun');
/** tsx by its path: the fixtures run in a folder of their own, where "--import tsx" would not resolve. */
const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const environment = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), TZ: 'UTC', NO_COLOR: '1' };

const here: 'node' | 'bun' = typeof Bun === 'undefined' ? 'node' : 'bun';

async function runUnder(runtime: 'node' | 'bun', cwd: string) {
  if (runtime === here) {
    // The file names in the arguments and the messages are relative to the case's folder.
    const previous = process.cwd();
    process.chdir(cwd);
    try {
      const result = await run(...RECONCILE_ARGS);
      return { code: result.code, stderr: stderrLines(result.stderr) };
    } finally {
      process.chdir(previous);
    }
  }
  const [command, args] = runtime === 'node' ? ['node', ['--import', tsx, entry, ...RECONCILE_ARGS]] : [bun, [entry, ...RECONCILE_ARGS]];
  const result = spawnSync(command, args as string[], { cwd, env: environment, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stderr: stderrLines(result.stderr) };
}

describe('malformed input: Node and the parse worker agree', () => {
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-parity-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  MALFORMED_CASES.forEach((malformed, index) => {
    it(malformed.name, async () => {
      const folder = writeCase(work, index);
      const expected = { code: malformed.exitCode, stderr: malformed.stderr };
      if (here === 'node') assert.deepEqual(await runUnder('node', folder), expected, 'Node, one thread');
      assert.deepEqual(await runUnder('bun', folder), expected, 'Bun, the parse worker');
    });
  });
});
