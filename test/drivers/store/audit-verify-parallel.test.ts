// Proves the parallel verify (drivers/store/audit-verify-parallel.ts) gives exactly the verdict of
// the one-entry-at-a-time verify: on a sound log (through the workers, under Bun), and on logs
// tampered with file access and no key: an edited entry with its hash recomputed, a removed entry,
// two entries swapped across runs, a wrong stored leaf hash, an unsigned tail. Under Node, which
// cannot run TypeScript workers, it must fall back to the one-by-one verify.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeAuditEntry } from '../../../core/audit-entry.ts';
import { hexEncode } from '../../../core/bytes.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditHasher, auditOrigin, noteVerifierFromKey, verifyStoredLog } from '../../../drivers/store/audit-log.ts';
import { canVerifyInWorkers, verifyStoredLogInParallel } from '../../../drivers/store/audit-verify-parallel.ts';
import { openDatabase, withDatabase, type Database } from '../../../drivers/store/database.ts';
import { migrate } from '../../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../../drivers/store/schema.ts';

const ENTRIES = 2_000;
const TUNING = { minEntries: 100, runEntries: 256, workers: 2 };
const origin = auditOrigin('kiosk', 'K0001');

describe('parallel audit verify', () => {
  let dir: string;
  let pristine: string;
  let verifierKey: string;
  let copies = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-parallel-verify-'));
    pristine = path.join(dir, 'pristine.db');
    const keys = generateEd25519KeyPair();
    let nowMs = Date.parse('2026-11-02T01:00:00Z');
    const db = openDatabase(pristine);
    migrate(db, 'kiosk', KIOSK_MIGRATIONS);
    const log = new AuditLog(db, { origin, privateKeyPem: keys.privateKeyPem, clock: { nowMs: () => (nowMs += 5) } });
    // One signed checkpoint per entry, as the kiosk writes; one fsync per 500 for speed.
    for (let first = 0; first < ENTRIES; first += 500) {
      db.transaction(() => {
        for (let index = first; index < first + 500; index += 1) log.append({ kind: 'certificate.printed', data: { requestId: `R${index}`, copy: 1 } });
      });
    }
    verifierKey = log.verifierKey;
    db.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A copy of the sound log, changed by `tamper` with the triggers dropped. */
  function tampered(tamper: (db: Database) => void): string {
    copies += 1;
    const file = path.join(dir, `copy-${copies}.db`);
    fs.copyFileSync(pristine, file);
    withDatabase(file, (db) => {
      db.exec('DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;');
      tamper(db);
    });
    return file;
  }

  async function bothVerdicts(file: string) {
    const options = { origin, verifiers: [noteVerifierFromKey(verifierKey)] };
    let from: string | undefined;
    const db = openDatabase(file, { readonly: true });
    try {
      const parallel = await verifyStoredLogInParallel(db, options, { ...TUNING, onVerdict: (path) => (from = path) });
      return { parallel, sequential: verifyStoredLog(db, options), from };
    } finally {
      db.close();
    }
  }

  function rewrite(db: Database, index: number, change: (text: string) => string): void {
    const row = db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index })!;
    const entry = new TextEncoder().encode(change(new TextDecoder().decode(row.entry)));
    db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = :index', { entry, leaf: auditHasher.leafHash(entry), index });
  }

  it('verifies a sound log through the workers (Bun) with the same root as one by one', async () => {
    const { parallel, sequential, from } = await bothVerdicts(pristine);
    assert.equal(parallel.ok, true, parallel.problem?.what);
    assert.deepEqual(parallel, sequential);
    assert.equal(from, canVerifyInWorkers() ? 'workers' : 'one by one');
  });

  const attacks: [string, (db: Database) => void, RegExp][] = [
    ['an entry edited, its hash recomputed', (db) => rewrite(db, 1_300, (text) => text.replace('"copy":1', '"copy":2')), /entry 1300|entries .* do not match/],
    ['an entry removed', (db) => db.run('DELETE FROM audit_entries WHERE idx = 700'), /entry 700 is missing/],
    [
      'two entries swapped across runs',
      (db) => {
        const [a, b] = [255, 256].map((index) => db.get<{ entry: Uint8Array; leaf_hash: Uint8Array }>('SELECT entry, leaf_hash FROM audit_entries WHERE idx = :index', { index })!);
        db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = 255', { entry: b!.entry, leaf: b!.leaf_hash });
        db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = 256', { entry: a!.entry, leaf: a!.leaf_hash });
      },
      /entry 25[56]/,
    ],
    ['a wrong stored leaf hash', (db) => db.run('UPDATE audit_entries SET leaf_hash = zeroblob(32) WHERE idx = 1999'), /entry 1999 was changed/],
    [
      'an unsigned tail',
      (db) => {
        const last = db.get<{ leaf_hash: Uint8Array }>('SELECT leaf_hash FROM audit_entries WHERE idx = :index', { index: ENTRIES - 1 })!;
        const entry = encodeAuditEntry({ index: ENTRIES, previous: hexEncode(last.leaf_hash), time: '2026-11-02T02:00:00.000Z', kind: 'maintenance.login', data: { outcome: 'accepted' } });
        db.run('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (:index, :entry, :leaf)', { index: ENTRIES, entry, leaf: auditHasher.leafHash(entry) });
      },
      /not covered by any signed checkpoint/,
    ],
  ];
  for (const [name, tamper, message] of attacks) {
    it(`gives the one-by-one verdict on ${name}`, async () => {
      const { parallel, sequential } = await bothVerdicts(tampered(tamper));
      assert.equal(parallel.ok, false);
      assert.deepEqual(parallel, sequential);
      assert.match(parallel.problem!.what, message);
    });
  }
});
