// Proves the compiled binary, whose reconcile parses in a worker, gives every malformed-input
// fixture the same exit code and FILE:LINE messages as Node does (test/cmd/parity.test.ts).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MALFORMED_CASES, RECONCILE_ARGS, stderrLines, writeCase } from '../cmd/malformed-fixtures.ts';

const built = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

describe('malformed input: the binary answers as Node does', () => {
  let work: string;
  before(() => {
    assert.ok(fs.existsSync(built), 'dist/cvs-issue exists (npm run build)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-parity-bin-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  MALFORMED_CASES.forEach((malformed, index) => {
    it(malformed.name, () => {
      const folder = writeCase(work, index);
      const result = spawnSync(built, RECONCILE_ARGS, { cwd: folder, env: { PATH: '/usr/bin:/bin', TZ: 'UTC', NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
      assert.deepEqual({ code: result.status, stderr: stderrLines(result.stderr) }, { code: malformed.exitCode, stderr: malformed.stderr });
    });
  });

  it('reads no .env from its working directory, as Node does not', () => {
    const folder = path.join(work, 'dotenv');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, '.env'), 'CVS_ISSUE_TIME=2026-02-30T10:00:00+09:00\n');
    const reconcile = spawnSync(built, ['reconcile', '--center-csv', 'x.csv', '--operator-csv', 'y.csv'], { cwd: folder, env: { PATH: '/usr/bin:/bin', TZ: 'UTC', NO_COLOR: '1' }, encoding: 'utf8' });
    assert.deepEqual({ code: reconcile.status, stderr: reconcile.stderr }, { code: 2, stderr: 'cvs-issue: x.csv: cannot read this file\n' });
  });

  it('a bad CVS_ISSUE_TIME is one line and exit 2 for a command that reads the clock, and harmless for one that does not', () => {
    const environment = { PATH: '/usr/bin:/bin', TZ: 'UTC', NO_COLOR: '1', CVS_ISSUE_TIME: '2026-02-30T10:00:00+09:00' };
    const help = spawnSync(built, ['init', '--help'], { env: environment, encoding: 'utf8' });
    assert.equal(help.status, 0);
    const reconcile = spawnSync(built, ['reconcile', '--center-csv', 'x.csv', '--operator-csv', 'y.csv'], { cwd: work, env: environment, encoding: 'utf8' });
    assert.deepEqual({ code: reconcile.status, stderr: reconcile.stderr }, {
      code: 2,
      stderr: 'cvs-issue: CVS_ISSUE_TIME="2026-02-30T10:00:00+09:00" is not a real ISO 8601 time with an offset (2026-11-30T10:00:00+09:00)\n',
    });
  });
});
