// Proves what a person at a terminal sees from the command line: every command listed, one clear
// line and the documented exit code for bad input (init's refusal to overwrite, and --force, are
// proven in init-load.test.ts, with the one real init of the suite's runtime).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, runWithInput } from './cli-fixture.ts';
import { freshDeployment } from './deployment-fixture.ts';

describe('cvs-issue command line', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-cli-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists every command in --help and exits 0', async () => {
    const result = await run('--help');
    assert.equal(result.code, 0);
    for (const command of ['init', 'demo', 'kiosk', 'relay', 'center', 'reconcile', 'invoice', 'audit-log']) {
      assert.match(result.stdout, new RegExp(`^  ${command}\\b`, 'm'), `--help lists ${command}`);
    }
  });

  it('exits 2 with one line for an unknown subcommand', async () => {
    const result = await run('frobnicate');
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'exactly one line');
    assert.match(result.stderr, /unknown command 'frobnicate'/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('exits 2 for an unknown flag and for a missing required option', async () => {
    assert.equal((await run('init', '--dir', dir, '--frob')).code, 2);
    const missing = await run('center', 'serve');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--dir/);
  });

  it('offers monthly settlement: reconcile and invoice explain their flags, and reconcile without sources exits 2', async () => {
    for (const [command, flag] of [['reconcile', '--confirm'], ['invoice', '--paid-on']] as const) {
      const help = await run(command, '--help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(flag));
    }
    const result = await run('reconcile', '--month', '2026-11');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^cvs-issue: give --center-csv FILE/);
  });

  it('names the file and the field of a broken kiosk script, exit 2', async () => {
    const deployment = path.join(dir, 'for-script');
    freshDeployment(deployment, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const script = path.join(dir, 'bad-script.json');
    fs.writeFileSync(script, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'Passport' }] }));
    const result = await run('kiosk', 'run', '--dir', deployment, '--script', script);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `cvs-issue: ${script}: sessions[0].certificateType: field "certificateType" is not a certificate type code (a-z, 0-9 and -)\n`);
  });

  it('unlocks maintenance only with the password, locks after five wrong ones, and audits every attempt', async () => {
    const deployment = path.join(dir, 'for-maintenance');
    freshDeployment(deployment, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const password = fs.readFileSync(path.join(deployment, 'pki/maintenance/K0001.txt'), 'utf8').trim();
    assert.equal(fs.statSync(path.join(deployment, 'pki/maintenance/K0001.txt')).mode & 0o777, 0o600);

    const opened = await runWithInput([password], 'kiosk', 'maintenance', '--dir', deployment, '--json');
    assert.equal(opened.code, 0, opened.stderr);
    assert.deepEqual(JSON.parse(opened.stdout).kioskId, 'K0001');

    // Enter alone, or no input at all, is not a try: no count, no audit entry, exit 2.
    for (const lines of [[''], []]) {
      const empty = await runWithInput(lines, 'kiosk', 'maintenance', '--dir', deployment);
      assert.equal(empty.code, 2);
      assert.match(empty.stderr, /an empty one is not a try/);
    }

    const wrong = await runWithInput(['not the password'], 'kiosk', 'maintenance', '--dir', deployment);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong maintenance password \(4 more tries/);
    assert.doesNotMatch(wrong.stderr, /not the password/);

    for (let attempt = 0; attempt < 4; attempt += 1) await runWithInput(['still wrong'], 'kiosk', 'maintenance', '--dir', deployment);
    const locked = await runWithInput([password], 'kiosk', 'maintenance', '--dir', deployment);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /maintenance is locked after repeated wrong passwords until/);

    const logins = await run('audit-log', 'show', '--dir', deployment, '--kiosk', 'K0001', '--kind', 'maintenance', '--json');
    assert.deepEqual(
      JSON.parse(logins.stdout).entries.map((entry: { data: { outcome: string } }) => entry.data.outcome),
      ['accepted', 'rejected', 'rejected', 'rejected', 'rejected', 'locked', 'locked'],
    );
    assert.doesNotMatch(logins.stdout, new RegExp(password));
  });

  it('tells a person to run init first when the deployment is missing, exit 2', async () => {
    const result = await run('relay', 'serve', '--dir', path.join(dir, 'nowhere'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /run "cvs-issue init --dir/);
  });
});
