// Proves the centre's SQLite store keeps no challenge or session beyond its use: used and expired
// challenges and expired sessions are purged, and a kiosk has at most one live challenge and one
// live session; and that it keeps serials voided after a misprint once each, audited, append-only.
// Both stores: SQLite, and PostgreSQL on a throw-away server (test/postgres.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../../../drivers/store/audit-log.ts';
import { createCenterStore, openCenterDatabase } from '../../../drivers/store/center-store.ts';
import type { Database } from '../../../drivers/store/database.ts';
import { sharedPostgres } from '../../postgres.ts';

const postgres = await sharedPostgres();
let databases = 0;

/** Where each suite keeps its centre: a fresh SQLite file, or a fresh PostgreSQL database. */
const STORES: [string, (dir: string) => string][] = [
  ['SQLite', (dir) => path.join(dir, 'center.db')],
  ['PostgreSQL', () => postgres.createDatabase(`store_${(databases += 1)}`)],
];

for (const [storeName, location] of STORES) {

describe(`centre store (${storeName}): challenges and sessions`, () => {
  let dir: string;
  let db: Database;
  let store: ReturnType<typeof createCenterStore>;
  const nowMs = Date.parse('2026-11-02T01:00:00Z');

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-center-store-'));
    db = openCenterDatabase(location(dir));
    store = createCenterStore(db, new AuditLog(db, { origin: auditOrigin('center'), privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => nowMs } }));
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const session = (token: string, kioskId: string, expiresAtMs: number) => ({
    sessionToken: token, operatorId: 'OP01', kioskId, residentId: 'r001', residentRef: `ref-${token}`, municipalityCode: '131016', expiresAtMs,
  });
  const count = (table: string) => db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)!.n;

  it("finds a kiosk's live challenge and its session by index, not by a scan of every one kept", () => {
    // A database of its own: bun:sqlite leaves an explained write statement open on its connection.
    const planned = openCenterDatabase(storeName === 'SQLite' ? path.join(dir, 'plans.db') : location(dir));
    try {
      const parameters = { kioskId: 'K0001', operatorId: 'OP01' };
      // PostgreSQL's planner scans a table of a few rows whatever its indexes: asked not to, it names the index it can use.
      if (storeName !== 'SQLite') planned.exec('SET enable_seqscan = off');
      const plan = (sql: string) =>
        storeName === 'SQLite'
          ? planned.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, parameters).map((row) => row.detail).join('; ')
          : planned.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, parameters).map((row) => row['QUERY PLAN']).join('; ');
      const usesIndex = (name: string) => (storeName === 'SQLite' ? new RegExp(`USING INDEX ${name}`) : new RegExp(`Index Scan using ${name}`));
      assert.match(plan('UPDATE challenges SET used = 1 WHERE kiosk_id = :kioskId AND operator_id = :operatorId AND used = 0'), usesIndex('challenges_live_by_kiosk'));
      assert.match(plan('DELETE FROM sessions WHERE operator_id = :operatorId AND kiosk_id = :kioskId'), usesIndex('sessions_by_kiosk'));
    } finally {
      planned.close();
    }
  });

  it('keeps one live session per kiosk: a new one ends the one before', () => {
    store.saveSession(session('first', 'K0001', nowMs + 60_000));
    store.saveSession(session('other-kiosk', 'K0002', nowMs + 60_000));
    store.saveSession(session('second', 'K0001', nowMs + 60_000));
    assert.equal(store.findSession('first'), undefined);
    assert.equal(store.findSession('second')?.kioskId, 'K0001');
    assert.equal(store.findSession('other-kiosk')?.kioskId, 'K0002');
  });

  const challenge = (challengeId: string, expiresAtMs: number, kioskId = 'K0001') => ({ challengeId, operatorId: 'OP01', kioskId, challenge: new Uint8Array(32), expiresAtMs });

  it('keeps one live challenge per kiosk: a new one ends the unused one before, so a late authenticate cannot open a session', () => {
    store.saveChallenge(challenge('older', nowMs + 60_000, 'K0004'));
    store.saveChallenge(challenge('other-kiosk', nowMs + 60_000, 'K0005'));
    store.saveChallenge(challenge('newer', nowMs + 60_000, 'K0004'));
    assert.equal(store.takeChallenge('older'), undefined);
    assert.equal(store.takeChallenge('newer')?.kioskId, 'K0004');
    assert.equal(store.takeChallenge('other-kiosk')?.kioskId, 'K0005');
  });

  it('purges used and expired challenges and expired sessions, and keeps what is live', () => {
    db.exec('DELETE FROM challenges');
    store.saveChallenge(challenge('used', nowMs + 60_000, 'K0001'));
    store.saveChallenge(challenge('expired', nowMs - 1, 'K0002'));
    store.saveChallenge(challenge('live', nowMs + 60_000, 'K0003'));
    assert.ok(store.takeChallenge('used'));
    store.saveSession(session('stale', 'K0003', nowMs - 1));
    const purged = store.purgeExpired(nowMs);
    assert.deepEqual(purged, { challenges: 2, sessions: 1 });
    assert.equal(count('challenges'), 1);
    assert.ok(store.takeChallenge('live'));
    assert.equal(store.findSession('stale'), undefined);
    assert.ok(store.findSession('second'));
  });
});

describe(`centre store (${storeName}): serials voided after a misprint (C§9)`, () => {
  let dir: string;
  let db: Database;
  let store: ReturnType<typeof createCenterStore>;
  const nowMs = Date.parse('2026-11-02T01:00:00Z');

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-center-store-voids-'));
    db = openCenterDatabase(location(dir));
    store = createCenterStore(db, new AuditLog(db, { origin: auditOrigin('center'), privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => nowMs } }));
    store.saveRequest({
      requestId: 'req-1', sessionToken: 'token', operatorId: 'OP01', storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016',
      certificateType: 'juminhyo', options: {}, copies: 2, unitFeeYen: 300, contentSha256: 'ab'.repeat(32), createdAtMs: nowMs,
    });
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const voided = { issuanceId: 'req-1', operatorId: 'OP01', kioskId: 'K0001', serials: ['req-1-1', 'req-1-2'], code: 'printer.jam', voidedAt: '2026-11-02T00:59:00.000Z' };
  const voidEntries = () =>
    db
      .all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries ORDER BY idx')
      .map((row) => JSON.parse(new TextDecoder().decode(row.entry)) as { kind: string; data: Record<string, unknown> })
      .filter((entry) => entry.kind === 'serials.voided')
      .map((entry) => entry.data);

  it('keeps each serial once, audits every recording, and refuses to change or remove one', () => {
    assert.deepEqual(store.recordVoidedSerials(voided, '2026-11-02T01:00:00.000Z'), { inserted: 2 });
    // The outbox sent the notice again: nothing new, the first void stands, and the repeat is audited as one.
    assert.deepEqual(store.recordVoidedSerials({ ...voided, code: 'cash.fault', voidedAt: '2026-11-02T00:59:30.000Z' }, '2026-11-02T01:00:05.000Z'), { inserted: 0 });
    assert.deepEqual(store.findVoidedSerial('req-1-2'), { serial: 'req-1-2', issuanceId: 'req-1', code: 'printer.jam', voidedAt: '2026-11-02T00:59:00.000Z' });
    assert.equal(store.findVoidedSerial('req-1-3'), undefined);
    assert.deepEqual(voidEntries(), [
      { issuanceId: 'req-1', operatorId: 'OP01', kioskId: 'K0001', code: 'printer.jam', count: 2, duplicate: false },
      { issuanceId: 'req-1', operatorId: 'OP01', kioskId: 'K0001', code: 'cash.fault', count: 2, duplicate: true },
    ]);
    assert.throws(() => db.exec("UPDATE voided_serials SET code = 'none'"), /voided serials are append-only/);
    assert.throws(() => db.exec('DELETE FROM voided_serials'), /voided serials are append-only/);
  });

  it("refuses a serial of another issuance, or of a request the centre never issued, writing nothing", () => {
    const before = voidEntries().length;
    assert.throws(() => store.recordVoidedSerials({ ...voided, serials: ['req-2-1'] }, '2026-11-02T01:00:10.000Z'), /not one of its issuance/);
    assert.throws(() => store.recordVoidedSerials({ ...voided, issuanceId: 'req-9', serials: ['req-9-1'] }, '2026-11-02T01:00:10.000Z'), /FOREIGN KEY/i);
    assert.equal(store.findVoidedSerial('req-9-1'), undefined);
    assert.equal(voidEntries().length, before);
  });
});
}
