// Proves the compiled binary prints through CUPS: centre, relay and a scripted kiosk run as
// separate processes of the binary, the kiosk with --printer cups:kiosk against the test's own
// cupsd (test/cups.ts), and the certificate and receipt come out of the cups-pdf queue.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { filesUnder, startCups, type PrivateCups } from '../cups.ts';

const built = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

describe('the compiled binary with a CUPS printer', () => {
  let work: string;
  let cups: PrivateCups;
  let paper: string;
  let environment: NodeJS.ProcessEnv;
  const running: ChildProcess[] = [];

  before(async () => {
    assert.ok(fs.existsSync(built), 'dist/cvs-issue exists (npm run build)');
    cups = await startCups();
    paper = cups.addPdfQueue('kiosk');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-e2e-cups-'));
    environment = {
      PATH: '/usr/bin:/bin',
      HOME: os.tmpdir(),
      TZ: 'UTC',
      NO_COLOR: '1',
      CUPS_SERVER: cups.server,
      CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())),
    };
  });

  after(async () => {
    for (const child of running) child.kill('SIGKILL');
    await cups?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  function run(...args: string[]) {
    const result = spawnSync(built, args, { cwd: work, env: environment, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Starts a long-running role and resolves with the URL it prints once it listens. */
  function serve(args: string[]): Promise<string> {
    const child = spawn(built, args, { cwd: work, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(child);
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const match = /listening on (https:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`)));
    });
  }

  it('issues a certificate whose pages are CUPS jobs that completed, with nothing left spooled', async () => {
    const dir = path.join(work, 'site');
    assert.equal(run('init', '--dir', dir).code, 0);
    const center = await serve(['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const relay = await serve(['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center]);
    const script = path.join(work, 'script.json');
    fs.writeFileSync(script, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' }] }));
    const kiosk = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay, '--printer', 'cups:kiosk', '--script', script, '--json');
    assert.equal(kiosk.code, 0, kiosk.stderr);
    const requestId: string = JSON.parse(kiosk.stdout).sessions[0].result.requestId;
    const titles = filesUnder(paper).map((name) => name.replace(/_.*$/, '').replace(/-job$/, ''));
    assert.deepEqual(titles.sort(), [`${requestId}-certificate-copy1`, `${requestId}-receipt`]);
    // The folder printer was not used.
    assert.deepEqual(filesUnder(path.join(dir, 'prints')), []);
    assert.deepEqual(filesUnder(cups.spoolDirectory).filter((name) => !/^c\d+$/.test(name)), []);
  });
});
