// Proves the compiled binary alone, copied away from the source tree, runs the whole service: the
// demo, and the three roles as separate processes talking over mutual TLS.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { popplerMissing } from '../poppler.ts';

const built = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

describe('the compiled cvs-issue binary', () => {
  let work: string;
  let binary: string;
  const environment = {
    PATH: '/usr/bin:/bin',
    HOME: os.tmpdir(),
    TZ: 'UTC',
    NO_COLOR: '1',
    CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())),
  };
  const running: ChildProcess[] = [];

  before(() => {
    assert.ok(fs.existsSync(built), 'dist/cvs-issue exists (npm run build)');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-e2e-'));
    binary = path.join(work, 'bin', 'cvs-issue');
    fs.mkdirSync(path.dirname(binary));
    fs.copyFileSync(built, binary);
    fs.chmodSync(binary, 0o755);
  });

  after(() => {
    for (const child of running) child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });

  function run(...args: string[]) {
    const result = spawnSync(binary, args, { cwd: work, env: environment, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Starts a long-running role and resolves with the URL it prints once it listens. */
  function serve(args: string[]): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(binary, args, { cwd: work, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const match = /listening on (https:\/\/\S+)/.exec(stdout);
        if (match) resolve({ child, url: match[1]! });
      });
      child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`)));
    });
  }

  function stop(child: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  }

  it('lists every command and exits 2 for an unknown one', () => {
    const help = run('--help');
    assert.equal(help.code, 0);
    for (const command of ['init', 'demo', 'kiosk', 'relay', 'center', 'reconcile', 'invoice', 'audit-log']) {
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    }
    const unknown = run('nonsense');
    assert.equal(unknown.code, 2);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
  });

  it('runs the demo and reports issued certificates that reconcile', () => {
    const dir = path.join(work, 'demo');
    const result = run('demo', '--json', '--dir', dir);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(
      { issued: summary.issued, documents: summary.documents, refused: summary.refused, reconciled: summary.reconciled, auditVerified: summary.auditVerified, unexpected: summary.unexpected, outboxPending: summary.outboxPending },
      { issued: 4, documents: 7, refused: 4, reconciled: true, auditVerified: true, unexpected: 0, outboxPending: 0 },
    );
    const printed = fs.readdirSync(path.join(dir, 'prints', 'K0001'));
    assert.equal(printed.filter((name) => name.endsWith('-receipt.pdf')).length, 2);
    const certificate = path.join(dir, 'prints', 'K0001', printed.find((name) => name.includes('certificate-copy1'))!);
    assert.equal(fs.readFileSync(certificate).subarray(0, 5).toString(), '%PDF-');
    const pdftotext = spawnSync('pdftotext', [certificate, '-'], { encoding: 'utf8' });
    if (!popplerMissing) assert.match(pdftotext.stdout, /住民票の写し|印鑑登録証明書/);

    // Settlement from the binary alone: both sides exported to CSV, reconciled by the parse worker.
    const month = summary.businessTime.slice(0, 7);
    for (const role of ['center', 'relay']) {
      const exported = run(role, 'export', '--dir', dir, '--month', month, '--out', path.join(work, `${role}.csv`));
      assert.equal(exported.code, 0, exported.stderr);
    }
    const reconciled = run('reconcile', '--month', month, '--center-csv', path.join(work, 'center.csv'), '--operator-csv', path.join(work, 'relay.csv'), '--json');
    assert.equal(reconciled.code, 0, reconciled.stderr);
    assert.deepEqual(JSON.parse(reconciled.stdout).matched, 5);
  });

  it('runs centre, relay and a scripted kiosk as separate processes', async () => {
    const dir = path.join(work, 'roles');
    assert.equal(run('init', '--dir', dir).code, 0);
    const center = await serve(['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const relay = await serve(['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center.url]);
    const script = path.join(work, 'script.json');
    fs.writeFileSync(script, JSON.stringify({
      sessions: [
        { card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' },
        { card: 'card-r006', pins: ['6666'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'refused' },
      ],
    }));
    const kiosk = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay.url, '--script', script, '--json');
    assert.equal(kiosk.code, 0, kiosk.stderr);
    const report = JSON.parse(kiosk.stdout);
    assert.deepEqual(report.sessions.map((session: { result: { outcome: string } }) => session.result.outcome), ['issued', 'refused']);
    assert.equal(report.outboxPending, 0);
    assert.equal(await stop(relay.child), 0);
    assert.equal(await stop(center.child), 0);
    for (const role of [['--role', 'center'], ['--role', 'relay'], ['--kiosk', 'K0002']]) {
      const verified = run('audit-log', 'verify', '--dir', dir, ...role);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /sound: \d+ entries/);
    }
  });
});
