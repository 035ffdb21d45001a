// Proves the audit-log witness commands in the compiled binary alone: an outside witness takes a
// key, keeps and cosigns the centre's checkpoint from an export, refuses a rolled-back export
// (exit 3), the cosignature goes back to the log and verify requires it; a cut export is refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';

const built = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

describe('the audit log in the compiled binary', () => {
  let work: string;
  let dir: string;
  const environment = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), TZ: 'UTC', NO_COLOR: '1', CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())) };

  function run(...args: string[]) {
    const result = spawnSync(built, args, { cwd: work, env: environment, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const file = (name: string) => path.join(work, name);

  before(() => {
    assert.ok(fs.existsSync(built), 'dist/cvs-issue exists (npm run build)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-e2e-audit-'));
    dir = path.join(work, 'site');
    // What `init` writes (the cmd tests' template; the binary's demo runs in binary.test.ts), and a
    // centre log of a few entries, each notice one, written by the binary (issue 9: a demo is seconds of CPU).
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    for (const day of ['03', '04', '05', '06']) {
      const notice = run('center', 'notice', '--dir', dir, '--kind', 'maintenance', '--from', `2027-01-${day}T01:00:00+09:00`, '--to', `2027-01-${day}T04:00:00+09:00`, '--message', '夜間保守');
      assert.equal(notice.code, 0, notice.stderr);
    }
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'cvs-issue.json'), 'utf8')) as { center: { auditVerifierKey: string } };
    fs.writeFileSync(file('center.vkey'), `${config.center.auditVerifierKey}\n`);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('an outside witness cosigns the centre, refuses a rollback, and verify requires its cosignature', () => {
    const key = run('audit-log', 'witness-key', '--name', 'auditor.example.jp', '--out', file('auditor.key'));
    assert.equal(key.code, 0, key.stderr);
    fs.writeFileSync(file('auditor.vkey'), key.stdout);
    assert.equal((fs.statSync(file('auditor.key')).mode & 0o777).toString(8), '600');

    // Before any cosignature, requiring the auditor's is a failure (exit 3), not a pass.
    const unsigned = run('audit-log', 'verify', '--dir', dir, '--role', 'center', '--witness-key', `@${file('auditor.vkey')}`);
    assert.equal(unsigned.code, 3, unsigned.stdout + unsigned.stderr);

    const witness = (exportFile: string) =>
      run('audit-log', 'witness', '--export', exportFile, '--log-key', `@${file('center.vkey')}`, '--key', file('auditor.key'), '--name', 'auditor.example.jp', '--state', file('auditor-state.json'));
    assert.equal(run('audit-log', 'export', '--dir', dir, '--role', 'center', '--out', file('early.jsonl')).code, 0);
    const first = witness(file('early.jsonl'));
    assert.equal(first.code, 0, first.stderr);

    // The centre's log grows; the auditor keeps the newer checkpoint, then is shown the older one.
    const notice = run('center', 'notice', '--dir', dir, '--kind', 'maintenance', '--from', '2027-01-10T01:00:00+09:00', '--to', '2027-01-10T05:00:00+09:00', '--message', '定期保守');
    assert.equal(notice.code, 0, notice.stderr);
    assert.equal(run('audit-log', 'export', '--dir', dir, '--role', 'center', '--out', file('late.jsonl')).code, 0);
    const second = witness(file('late.jsonl'));
    assert.equal(second.code, 0, second.stderr);
    fs.writeFileSync(file('cosigned.note'), second.stdout);
    const rollback = witness(file('early.jsonl'));
    assert.equal(rollback.code, 3, rollback.stdout + rollback.stderr);

    const cosign = run('audit-log', 'cosign', '--dir', dir, '--role', 'center', '--note', file('cosigned.note'), '--witness-key', `@${file('auditor.vkey')}`);
    assert.equal(cosign.code, 0, cosign.stderr);
    const verified = run('audit-log', 'verify', '--dir', dir, '--role', 'center', '--witness-key', `@${file('auditor.vkey')}`, '--json');
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual(JSON.parse(verified.stdout).cosignedBy, ['auditor.example.jp']);
  });

  it('refuses an export cut in the middle of a line (exit 2) or after an entry line (exit 3)', () => {
    assert.equal(run('audit-log', 'export', '--dir', dir, '--role', 'center', '--out', file('whole.jsonl')).code, 0);
    const whole = fs.readFileSync(file('whole.jsonl'), 'utf8');
    const lines = whole.split('\n');
    fs.writeFileSync(file('mid-line.jsonl'), whole.slice(0, whole.length - Math.floor(lines.at(-2)!.length / 2) - 1));
    const midLine = run('audit-log', 'verify', '--export', file('mid-line.jsonl'), '--key', `@${file('center.vkey')}`);
    assert.equal(midLine.code, 2, midLine.stdout + midLine.stderr);
    assert.match(midLine.stderr, /mid-line\.jsonl:\d+/);
    // Cut after an entry line: the last entries and the stored checkpoints are gone, the header's
    // latest checkpoint still says how many entries there were.
    const firstCheckpointLine = lines.findIndex((line) => line.startsWith('{"checkpoint"'));
    fs.writeFileSync(file('line-end.jsonl'), `${lines.slice(0, firstCheckpointLine - 3).join('\n')}\n`);
    const lineEnd = run('audit-log', 'verify', '--export', file('line-end.jsonl'), '--key', `@${file('center.vkey')}`);
    assert.equal(lineEnd.code, 3, lineEnd.stdout + lineEnd.stderr);
    assert.match(lineEnd.stdout + lineEnd.stderr, /missing/);
  });
});
