// Proves the compiled binary runs the centre on PostgreSQL as more than one process (docs/postgres.md):
// init keeps the centre's store in the server and writes no center.db; two `center serve`
// processes share it; the relay spreads requests over both and, when one is killed with SIGKILL in
// the middle of eight kiosks' sessions, carries every session on through the other. Nothing is lost:
// every notice a kiosk had acknowledged is recorded once, every audit log verifies (the centre's
// read back from the server), and the month reconciles from the server's records.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso, jstMonth } from '../../core/jst.ts';
import { openDatabase } from '../../drivers/store/database.ts';
import { startPostgres, type PostgresServer } from '../postgres.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';

const KIOSKS = 8;
const SESSIONS_PER_KIOSK = 5;

describe('two centres on one PostgreSQL store (binary)', () => {
  let workspace: BinaryWorkspace;
  let postgres: PostgresServer;
  const businessMs = nextBusinessMorning(Date.now());
  const environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(businessMs) };

  before(async () => {
    workspace = binaryWorkspace('cvs-e2e-centers-');
    // The socket for the first test; TCP with mutual TLS (verify-full, a client certificate) for the demo.
    postgres = await startPostgres({ tls: true });
  });
  after(() => {
    workspace?.close();
    postgres?.stop();
  });

  const run = (...args: string[]) => workspace.run(environment, ...args);

  /** A kiosk process playing its script; resolves with its exit code and report. */
  function kiosk(dir: string, kioskId: string, relayUrl: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child: ChildProcess = spawn(workspace.binary, ['kiosk', 'run', '--dir', dir, '--kiosk', kioskId, '--relay-url', relayUrl, '--script', script, '--json'], { cwd: workspace.work, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  }

  it('carries every session on through the other centre when one is killed, and loses no notice', async () => {
    const url = postgres.createDatabase('center');
    const dir = path.join(workspace.work, 'deployment');
    const init = run('init', '--dir', dir, '--center-database', url, '--center-listen', '127.0.0.1:0', '--relay-listen', '127.0.0.1:0', '--kiosks', String(KIOSKS), '--residents', String(KIOSKS), '--json');
    assert.equal(init.code, 0, init.stderr);
    assert.equal(fs.existsSync(path.join(dir, 'center.db')), false, 'init made a center.db');
    // Each kiosk of the first operator its own synthetic resident's card, so no card is on two readers at once.
    const described = JSON.parse(init.stdout) as { kiosks: { kioskId: string; operatorId: string }[]; cards: { directory: string; syntheticCardIds: string[] } };
    const kioskIds = described.kiosks.filter((kiosk) => kiosk.operatorId === described.kiosks[0]!.operatorId).map((kiosk) => kiosk.kioskId);
    assert.equal(kioskIds.length, KIOSKS);
    const kioskCards = kioskIds.map((kioskId, index) => {
      const cardId = described.cards.syntheticCardIds[index]!;
      const { pin } = JSON.parse(fs.readFileSync(path.join(described.cards.directory, `${cardId}.json`), 'utf8')) as { pin: string };
      return [kioskId, cardId, pin, 'juminhyo'] as const;
    });
    // Given the database again, init refuses it (exit 2) rather than mix two deployments.
    const again = run('init', '--dir', path.join(workspace.work, 'other'), '--center-database', url);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds \d+ tables.*--force/);

    const first = await workspace.serve(environment, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const second = await workspace.serve(environment, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--database', url]);
    const relay = await workspace.serve(environment, ['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', `${first.url},${second.url}`]);

    const reports = kioskCards.map(([kioskId, card, pin, certificateType]) => {
      const script = path.join(workspace.work, `${kioskId}.json`);
      const sessions = Array.from({ length: SESSIONS_PER_KIOSK }, () => ({ card, pins: [pin], certificateType, copies: 1, cash: [500], expect: 'issued' }));
      fs.writeFileSync(script, JSON.stringify({ sessions }));
      return kiosk(dir, kioskId, relay.url, script);
    });
    // The first centre dies once the kiosks are under way: some notices in, most sessions still to come.
    const reader = openDatabase(url, { readonly: true });
    const recorded = () => reader.get<{ n: number }>('SELECT count(*) AS n FROM handling_records')!.n;
    try {
      const deadline = Date.now() + 60_000;
      while (recorded() < KIOSKS / 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const killedAt = recorded();
      first.child.kill('SIGKILL');
      const results = await Promise.all(reports);
      for (const [index, result] of results.entries()) {
        assert.equal(result.code, 0, `${kioskCards[index]![0]}: ${result.stdout.slice(0, 2000)} ${result.stderr}`);
        const report = JSON.parse(result.stdout);
        assert.deepEqual(report.sessions.map((session: { result: { outcome: string } }) => session.result.outcome), Array(SESSIONS_PER_KIOSK).fill('issued'));
        assert.equal(report.outboxPending, 0, 'every notice acknowledged');
      }
      const total = kioskCards.length * SESSIONS_PER_KIOSK;
      assert.ok(killedAt < total - KIOSKS, `the centre was killed after ${killedAt} of ${total} notices: too late to prove anything`);
      // Every session once, and every one the kiosks issued (each kiosk's own record of its sessions).
      assert.equal(recorded(), total);
      assert.equal(reader.get<{ n: number }>('SELECT count(DISTINCT issuance_id) AS n FROM handling_records')!.n, total);
      assert.equal(reader.get<{ n: number }>('SELECT count(*) AS n FROM requests r WHERE NOT EXISTS (SELECT 1 FROM handling_records h WHERE h.issuance_id = r.request_id)')!.n, 0);
    } finally {
      reader.close();
    }
    assert.equal(await workspace.stop(relay.child), 0);
    assert.equal(await workspace.stop(second.child), 0);

    for (const role of [['--role', 'center'], ['--role', 'relay'], ...kioskCards.map(([kioskId]) => ['--kiosk', kioskId])]) {
      const verified = run('audit-log', 'verify', '--dir', dir, ...role!);
      assert.equal(verified.code, 0, `${role!.join(' ')}: ${verified.stdout}${verified.stderr}`);
    }
    const reconciled = run('reconcile', '--dir', dir, '--month', jstMonth(businessMs), '--json');
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    // The centre's export reads the server too: a header and one line per record.
    const exported = run('center', 'export', '--dir', dir, '--month', jstMonth(businessMs));
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim().split('\n').length, 1 + kioskCards.length * SESSIONS_PER_KIOSK);
  });

  it('runs the demo with the centre on PostgreSQL over mutual TLS: reconciled, every audit log verified, no center.db', () => {
    postgres.createDatabase('demo');
    const url = postgres.tlsUrl('demo');
    const dir = path.join(workspace.work, 'demo');
    const demo = run('demo', '--dir', dir, '--center-database', url, '--json');
    assert.equal(demo.code, 0, demo.stderr);
    const summary = JSON.parse(demo.stdout);
    assert.deepEqual({ reconciled: summary.reconciled, auditVerified: summary.auditVerified, documentsVerified: summary.documentsVerified, issued: summary.issued }, { reconciled: true, auditVerified: true, documentsVerified: true, issued: 4 });
    assert.equal(fs.existsSync(path.join(dir, 'center.db')), false);
    const reader = openDatabase(url, { readonly: true });
    try {
      // The centre's records and its audit log are the server's.
      assert.equal(reader.get<{ n: number }>('SELECT count(*) AS n FROM handling_records')!.n, 5);
      assert.ok(reader.get<{ n: number }>('SELECT count(*) AS n FROM audit_entries')!.n > 0);
      // A read-only connection cannot write, even what the store would.
      assert.throws(() => reader.run("INSERT INTO operators (operator_id, name) VALUES ('OPX', 'x')"), /read-only transaction/);
    } finally {
      reader.close();
    }
    // A server out of reach: one line naming it without its password, exit 2, and nothing left in
    // the temporary directory the demo made for its deployment.
    const scratch = fs.mkdtempSync(path.join(workspace.work, 'tmp-'));
    const unreachable = workspace.run({ ...environment, TMPDIR: scratch }, 'demo', '--center-database', `postgresql://postgres:hunter2@localhost/none?host=${scratch}/no-socket&port=1`);
    assert.equal(unreachable.code, 2);
    assert.equal(unreachable.stderr.trim().split('\n').length, 1);
    assert.match(unreachable.stderr, /postgres:\*\*\*@localhost.*cannot use the PostgreSQL database/);
    assert.doesNotMatch(unreachable.stderr, /hunter2/);
    assert.deepEqual(fs.readdirSync(scratch), []);
  });
});
