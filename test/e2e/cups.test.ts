// Proves the compiled binary prints through CUPS: centre, relay and a scripted kiosk run as
// separate processes of the binary, the kiosk with --printer cups:kiosk against the test's own
// cupsd (test/cups.ts), and the certificate and receipt come out of the cups-pdf queue.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { filesUnder, startCups, type PrivateCups } from '../cups.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';

describe('the compiled binary with a CUPS printer', () => {
  let workspace: BinaryWorkspace;
  let work: string;
  let cups: PrivateCups;
  let paper: string;
  let environment: NodeJS.ProcessEnv;

  before(async () => {
    cups = await startCups();
    paper = cups.addPdfQueue('kiosk');
    workspace = binaryWorkspace('cvs-e2e-cups-');
    work = workspace.work;
    environment = { ...BARE_ENVIRONMENT, CUPS_SERVER: cups.server, CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())) };
  });

  after(async () => {
    workspace?.close();
    await cups?.stop();
  });

  const run = (...args: string[]) => workspace.run(environment, ...args);
  /** Starts a long-running role and resolves with the URL it prints once it listens. */
  const serve = async (args: string[]) => (await workspace.serve(environment, args)).url;

  it('issues a certificate whose pages are CUPS jobs that completed, with nothing left spooled', async () => {
    const dir = path.join(work, 'site');
    // What `init` writes, from the template the cmd tests share: the binary's own init is tested in
    // binary.test.ts and scriptable.test.ts, and each init here was 2.7 s of CPU (issue 9).
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
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
