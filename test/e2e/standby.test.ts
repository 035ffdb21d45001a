// Proves the centre's PostgreSQL store survives the loss of its primary server with nothing lost
// that was acknowledged (docs/postgres.md, "A standby"): a streaming replica made with pg_basebackup,
// synchronous (synchronous_standby_names, synchronous_commit on: a commit returns once the standby
// has it). The primary crashes (pg_ctl stop -m immediate) right after the kiosks' notices are
// acknowledged; the standby is promoted; a centre on it carries on (the relay, given both centres'
// addresses, fails over by itself: the first centre answers 503 without its store). Every notice
// acknowledged before the crash is there, the sessions after it are issued, the centre's audit log
// verifies from the promoted server, and the month reconciles.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso, jstMonth } from '../../core/jst.ts';
import { openDatabase } from '../../drivers/store/database.ts';
import { freePort, startPostgres, type PostgresServer } from '../postgres.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';

describe('the centre on a PostgreSQL primary with a synchronous standby (binary)', () => {
  let workspace: BinaryWorkspace;
  let primary: PostgresServer;
  let standby: PostgresServer | undefined;
  const businessMs = nextBusinessMorning(Date.now());
  const environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(businessMs) };

  before(async () => {
    workspace = binaryWorkspace('cvs-e2e-standby-');
    primary = await startPostgres();
  });
  after(() => {
    workspace?.close();
    primary?.stop();
    standby?.stop();
  });

  const run = (...args: string[]) => workspace.run(environment, ...args);
  const psql = (server: PostgresServer, sql: string) =>
    server.run('psql', ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atq', '-c', sql]).trim();
  const script = (name: string, sessions: number) => {
    const file = path.join(workspace.work, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ sessions: Array.from({ length: sessions }, () => ({ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500], expect: 'issued' })) }));
    return file;
  };
  const issuedAt = (dir: string, relayUrl: string, file: string): string[] => {
    const kiosk = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relayUrl, '--script', file, '--json');
    assert.equal(kiosk.code, 0, kiosk.stdout.slice(0, 2000) + kiosk.stderr);
    const report = JSON.parse(kiosk.stdout);
    assert.equal(report.outboxPending, 0, 'every notice acknowledged');
    return report.sessions.map((session: { result: { outcome: string; requestId: string } }) => {
      assert.equal(session.result.outcome, 'issued');
      return session.result.requestId;
    });
  };

  it('loses nothing acknowledged when the primary crashes and the standby is promoted', async () => {
    const dir = path.join(workspace.work, 'deployment');
    const init = run('init', '--dir', dir, '--center-database', primary.createDatabase('center'), '--center-listen', '127.0.0.1:0', '--relay-listen', '127.0.0.1:0');
    assert.equal(init.code, 0, init.stderr);
    standby = await primary.startStandby('standby1');
    psql(primary, "ALTER SYSTEM SET synchronous_standby_names = 'standby1'");
    psql(primary, 'SELECT pg_reload_conf()');
    const deadline = Date.now() + 30_000;
    while (psql(primary, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'") !== 'sync') {
      assert.ok(Date.now() < deadline, 'the standby never became synchronous');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const first = await workspace.serve(environment, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    // The second centre's address is the relay's from the start; it serves once the standby is promoted.
    const secondListen = `127.0.0.1:${await freePort()}`;
    const relay = await workspace.serve(environment, ['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', `${first.url},https://${secondListen}`]);
    const before = issuedAt(dir, relay.url, script('before', 4));

    // The crash: no shutdown checkpoint, nothing flushed that was not already.
    primary.halt('immediate');
    standby.promote();
    const promotedUrl = standby.url('center');
    const second = await workspace.serve(environment, ['center', 'serve', '--dir', dir, '--listen', secondListen, '--database', promotedUrl]);
    const afterwards = issuedAt(dir, relay.url, script('after', 3));

    const promoted = openDatabase(promotedUrl, { readonly: true });
    try {
      const recorded = new Set(promoted.all<{ issuance_id: string }>('SELECT issuance_id FROM handling_records').map((row) => row.issuance_id));
      for (const requestId of before) assert.ok(recorded.has(requestId), `acknowledged before the crash, missing after it: ${requestId}`);
      for (const requestId of afterwards) assert.ok(recorded.has(requestId));
      assert.equal(recorded.size, before.length + afterwards.length);
    } finally {
      promoted.close();
    }
    assert.equal(await workspace.stop(relay.child), 0);
    assert.equal(await workspace.stop(second.child), 0);
    assert.equal(await workspace.stop(first.child), 0);

    const key = JSON.parse(fs.readFileSync(path.join(dir, 'cvs-issue.json'), 'utf8')).center.auditVerifierKey as string;
    const verified = run('audit-log', 'verify', '--db', promotedUrl, '--key', key);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const reconciled = run('reconcile', '--month', jstMonth(businessMs), '--center-db', promotedUrl, '--operator-db', path.join(dir, 'relay.db'));
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
  });
});
