// Proves the compiled binary alone, copied away from the source tree, runs the whole service: the
// demo, and the three roles as separate processes talking over mutual TLS.

import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { popplerMissing } from '../poppler.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';

/** A running process's environment, as the kernel holds it (Linux /proc). */
function environmentOf(pid: number): Record<string, string> {
  const entries = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter((entry) => entry.includes('='));
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

describe('the compiled cvs-issue binary', () => {
  let workspace: BinaryWorkspace;
  let work: string;
  const environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())) };

  before(() => {
    workspace = binaryWorkspace('cvs-e2e-');
    work = workspace.work;
  });

  after(() => workspace?.close());

  const run = (...args: string[]) => workspace.run(environment, ...args);
  const serve = (args: string[]) => workspace.serve(environment, args);
  const stop = (child: ChildProcess) => workspace.stop(child);

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
      { issued: summary.issued, documents: summary.documents, refused: summary.refused, reconciled: summary.reconciled, auditVerified: summary.auditVerified, documentsVerified: summary.documentsVerified, unexpected: summary.unexpected, outboxPending: summary.outboxPending },
      { issued: 4, documents: 7, refused: 4, reconciled: true, auditVerified: true, documentsVerified: true, unexpected: 0, outboxPending: 0 },
    );
    const printed = fs.readdirSync(path.join(dir, 'prints', 'K0001'));
    assert.equal(printed.filter((name) => name.endsWith('-receipt.pdf')).length, 2);
    const certificate = path.join(dir, 'prints', 'K0001', printed.find((name) => name.includes('certificate-copy1'))!);
    assert.equal(fs.readFileSync(certificate).subarray(0, 5).toString(), '%PDF-');
    const pdftotext = spawnSync('pdftotext', [certificate, '-'], { encoding: 'utf8' });
    if (!popplerMissing) assert.match(pdftotext.stdout, /住民票の写し|印鑑登録証明書/);

    // Each printed copy carries the centre's signed statement: genuine as printed, void where the
    // demo's jammed printer voided it (K0002), and a receipt is no certificate at all.
    const genuine = run('verify-document', certificate, '--dir', dir, '--json');
    assert.equal(genuine.code, 0, genuine.stderr);
    assert.equal(JSON.parse(genuine.stdout).status, 'genuine');
    const jammed = fs.readdirSync(path.join(dir, 'prints', 'K0002')).find((name) => name.includes('certificate-copy1'))!;
    const voided = run('verify-document', path.join(dir, 'prints', 'K0002', jammed), '--dir', dir, '--json');
    assert.deepEqual({ code: voided.code, status: JSON.parse(voided.stdout).status }, { code: 3, status: 'void' });
    const receipt = run('verify-document', path.join(dir, 'prints', 'K0001', printed.find((name) => name.endsWith('-receipt.pdf'))!), '--dir', dir);
    assert.equal(receipt.code, 2);
    assert.match(receipt.stderr, /^cvs-issue: .*: not a certificate of this service: it has no signed statement\n$/);

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
    // What `init` writes, from the cmd tests' template: the binary's own init is tested in
    // scriptable.test.ts and settlement.test.ts (issue 9: each init is 2.7 s of CPU).
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const center = await serve(['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const relay = await serve(['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center.url]);
    // Each server executed itself again with mimalloc's purge delay off (drivers/allocator-policy.ts):
    // the same process, answering on the URL it printed.
    for (const server of [center, relay]) assert.equal(environmentOf(server.child.pid!).MIMALLOC_PURGE_DELAY, '-1');
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
    // The technician's check of the same kiosk, every check passing (limits no loaded machine misses; the real ones are core's).
    const diagnosis = run('kiosk', 'diagnose', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay.url, '--password-file', path.join(dir, 'pki', 'maintenance', 'K0002.txt'), '--min-free-mb', '1', '--max-latency-ms', '60000', '--json');
    assert.equal(diagnosis.code, 0, diagnosis.stdout + diagnosis.stderr);
    assert.deepEqual(JSON.parse(diagnosis.stdout).checks.filter((check: { ok: boolean }) => !check.ok), []);
    // A municipality with its own system joins the running centre (docs/municipality-backend.md):
    // the binary's reference back end, a card for one of its residents, issued through the same relay.
    const residents = path.join(work, 'yamagata.json');
    fs.writeFileSync(residents, JSON.stringify([{ residentId: 'R06201400001', municipalityCode: '062014', status: 'active', supportMeasure: false, name: '髙橋 花子', kana: 'たかはし はなこ', birthDate: '1990-05-01', sex: '女', address: '山形県山形市旅篭町二丁目3番25号', householder: '髙橋 花子', relationship: '世帯主', residentSince: '2015-04-01' }]));
    assert.equal(run('center', 'municipality', 'add', '--dir', dir, '--code', '062014', '--name', '山形県山形市', '--offer', 'juminhyo:300', '--backend-url', 'https://127.0.0.1:1').code, 0);
    const backend = await serve(['municipality', 'serve', '--dir', dir, '--code', '062014', '--residents', residents, '--listen', '127.0.0.1:0']);
    assert.equal(run('center', 'municipality', 'update', '--dir', dir, '--code', '062014', '--backend-url', backend.url).code, 0);
    const card = run('center', 'card', 'issue', '--dir', dir, '--municipality', '062014', '--resident', 'R06201400001', '--pin', '4321');
    assert.equal(card.code, 0, card.stderr);
    const yamagata = path.join(work, 'yamagata-script.json');
    fs.writeFileSync(yamagata, JSON.stringify({ sessions: [{ card: 'card-R06201400001', pins: ['4321'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' }] }));
    const issued = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0002', '--relay-url', relay.url, '--script', yamagata, '--json');
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(JSON.parse(issued.stdout).sessions[0].result.outcome, 'issued');
    assert.equal(await stop(backend.child), 0);

    // An operator joins the running centre (C§24): its relay and kiosk, binary processes of their
    // own, issue through the centre, which finds the new kiosk in the deployment file.
    const joined = run('center', 'operator', 'add', '--dir', dir, '--operator', 'OP03', '--name', '株式会社テスト商店', '--listen', '127.0.0.1:0', '--store', 'S0301', '--store-name', 'テスト商店大手町店', '--kiosks', 'K0301');
    assert.equal(joined.code, 0, joined.stderr);
    const relay3 = await serve(['relay', 'serve', '--dir', dir, '--operator', 'OP03', '--listen', '127.0.0.1:0', '--center-url', center.url]);
    const joinedScript = path.join(work, 'op03-script.json');
    fs.writeFileSync(joinedScript, JSON.stringify({ sessions: [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' }] }));
    const throughOp03 = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0301', '--relay-url', relay3.url, '--script', joinedScript, '--json');
    assert.equal(throughOp03.code, 0, throughOp03.stdout + throughOp03.stderr);
    assert.equal(JSON.parse(throughOp03.stdout).sessions[0].result.outcome, 'issued');
    assert.equal(await stop(relay3.child), 0);
    assert.equal(await stop(relay.child), 0);
    assert.equal(await stop(center.child), 0);
    for (const role of [['--role', 'center'], ['--role', 'relay'], ['--kiosk', 'K0002']]) {
      const verified = run('audit-log', 'verify', '--dir', dir, ...role);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /sound: \d+ entries/);
    }
  });
});
