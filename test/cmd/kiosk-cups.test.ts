// Proves `kiosk run --printer cups:QUEUE` issues a certificate end to end (in process, against an
// in-process relay and centre) with every page printed through CUPS into a cups-pdf queue, that a
// stopped queue turns the same session into a refunded misprint with nothing printed, that an
// unknown queue stops the kiosk at start (exit 1), and that a bad --printer value is one line and
// exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../cmd/cvs-issue.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';
import { bufferIo } from '../../cmd/io.ts';
import type { StartedRelay } from '../../cmd/relay.ts';
import { filesUnder, startCups, type PrivateCups } from '../cups.ts';

describe('kiosk run --printer cups:QUEUE', () => {
  let dir: string;
  let relay: StartedRelay;
  let cups: PrivateCups;
  let paper: string;
  const clock = offsetClock(nextBusinessMorning(Date.now()));
  let service: RunningService;

  before(async () => {
    cups = await startCups();
    paper = cups.addPdfQueue('kiosk');
    service = await runningService('cvs-kiosk-cups-', clock);
    ({ dir, relay } = service);
  });

  after(async () => {
    await service?.close();
    await cups?.stop();
  });

  function script(name: string, copies: number): string {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies, cash: [1000] }] }));
    return file;
  }

  async function runKiosk(queue: string, scriptFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const io = bufferIo();
    const code = await main(
      ['kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.server.url, '--printer', `cups:${queue}`, '--script', scriptFile, '--json'],
      io,
      { clock, environment: cups.environment },
    );
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }

  it('issues two copies and a receipt, each a CUPS job that came out of the cups-pdf queue', async () => {
    const result = await runKiosk('kiosk', script('issue', 2));
    assert.equal(result.code, 0, result.stderr);
    const [session] = JSON.parse(result.stdout).sessions;
    assert.equal(session.result.outcome, 'issued');
    const requestId: string = session.result.requestId;
    const printed = filesUnder(paper);
    // cups-pdf names each file after the job title, which is the request id, kind and copy.
    const titles = printed.map((name) => name.replace(/_.*$/, '').replace(/-job$/, ''));
    assert.deepEqual(titles.sort(), [`${requestId}-certificate-copy1`, `${requestId}-certificate-copy2`, `${requestId}-receipt`].sort(), printed.join(', '));
    const certificate = printed.find((name) => name.startsWith(`${requestId}-certificate-copy1`))!;
    const text = spawnSync('pdftotext', ['-enc', 'UTF-8', path.join(paper, certificate), '-'], { encoding: 'utf8' }).stdout;
    // card-r001 is 髙橋 一郎. The request id is checked by the file names above: pdfkit sets "ff" in
    // it as a ligature, which the PostScript step maps to other characters (docs/runtime-facts.md).
    assert.match(text.replace(/\s+/g, ' '), /住民票の写し 髙橋 一郎 .* 交付番号 \S+ 端末番号 K0001/);
    assert.deepEqual(filesUnder(cups.spoolDirectory).filter((name) => !/^c\d+$/.test(name)), []);
  });

  it('refunds when the queue is stopped, and nothing comes out', async () => {
    const stoppedPaper = cups.addPdfQueue('kiosk-stopped');
    cups.command('cupsdisable', ['kiosk-stopped']);
    const result = await runKiosk('kiosk-stopped', script('stopped', 1));
    assert.equal(result.code, 0, result.stderr);
    const [session] = JSON.parse(result.stdout).sessions;
    assert.deepEqual({ outcome: session.result.outcome, code: session.result.code, refundedYen: session.result.refundedYen }, { outcome: 'refunded', code: 'printer.fault', refundedYen: 1000 });
    assert.deepEqual(filesUnder(stoppedPaper), []);
    assert.equal(cups.command('lpstat', ['-W', 'all', '-o', 'kiosk-stopped']), '');
  });

  it('kiosk diagnose --printer cups:QUEUE reads the queue: ready passes, a stopped one fails the printer check, exit 3', async () => {
    cups.addPdfQueue('diagnose-stopped');
    cups.command('cupsdisable', ['diagnose-stopped']);
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    for (const queue of ['kiosk', 'diagnose-stopped']) {
      const io = bufferIo();
      const passwordFile = path.join(dir, 'pki', 'maintenance', 'K0001.txt');
      const code = await main(['kiosk', 'diagnose', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.server.url, '--printer', `cups:${queue}`, '--password-file', passwordFile, '--min-free-mb', '1', '--max-latency-ms', '60000', '--json'], io, {
        clock,
        environment: cups.environment,
      });
      assert.equal(code, queue === 'kiosk' ? 0 : 3, io.stderr());
      checks[queue] = (JSON.parse(io.stdout()).checks as { name: string; ok: boolean; detail: string }[]).find((check) => check.name === 'printer')!;
    }
    assert.deepEqual(checks.kiosk, { name: 'printer', ok: true, detail: 'CUPS queue "kiosk" ready' });
    assert.equal(checks['diagnose-stopped']!.ok, false);
    assert.match(checks['diagnose-stopped']!.detail, /^printer\.fault: the printer is not ready: CUPS queue "diagnose-stopped" reports /);
  });

  it('refuses a --printer value that is not "folder", "folder:jam-on-copy=N" or "cups:QUEUE" in one line, exit 2', async () => {
    for (const value of ['cups:', 'cups:a/b', 'lpt1', 'folder:', 'folder:jam-on-copy=0', 'folder:jam-on-copy=100', 'folder:jam-on-copy=two', 'folder:jam-on-page=2']) {
      const io = bufferIo();
      assert.equal(await main(['kiosk', 'run', '--dir', dir, '--printer', value], io, { clock }), 2);
      assert.equal(io.stderr(), `cvs-issue: --printer "${value}" must be "folder", "folder:jam-on-copy=N" (N from 1 to 99) or "cups:QUEUE" with a CUPS queue name (letters, digits, "_", "-", ".")\n`);
    }
  });

  it('refuses a jamming folder printer with --script, whose sessions say where to jam, exit 2', async () => {
    const io = bufferIo();
    assert.equal(await main(['kiosk', 'run', '--dir', dir, '--printer', 'folder:jam-on-copy=2', '--script', script('jam-flag', 1)], io, { clock }), 2);
    assert.equal(io.stderr(), 'cvs-issue: --printer "folder:jam-on-copy=2" is for the interactive kiosk: with --script, give "printerJamOnCopy" in the sessions that should jam\n');
  });

  it('does not start with a queue the scheduler does not know, exit 1', async () => {
    const io = bufferIo();
    const code = await main(['kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.server.url, '--printer', 'cups:no-such-queue', '--script', script('unknown', 1)], io, {
      clock,
      environment: cups.environment,
    });
    assert.equal(code, 1);
    assert.equal(io.stderr(), 'cvs-issue: CUPS queue "no-such-queue" could not be read: lpstat: Invalid destination name in list "no-such-queue".\n');
    assert.equal(io.stdout(), '');
  });

  it('refuses a script that wants a jam on a CUPS printer, exit 2', async () => {
    const file = path.join(dir, 'jam.json');
    fs.writeFileSync(file, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [1000], printerJamOnCopy: 1 }] }));
    const io = bufferIo();
    assert.equal(await main(['kiosk', 'run', '--dir', dir, '--printer', 'cups:kiosk', '--script', file], io, { clock }), 2);
    assert.equal(io.stderr(), `cvs-issue: ${file}: "printerJamOnCopy" needs the folder printer: a CUPS printer cannot be told to jam\n`);
  });
});
