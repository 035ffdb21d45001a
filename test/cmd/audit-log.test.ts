// Proves `audit-log verify` catches every way of tampering with a real database file (edit, delete,
// insert, reorder, truncate, edit-and-rehash, with the triggers dropped first) and names the entry,
// and that proofs and exports can be checked without the database.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { AuditLog, auditHasher, auditOrigin, verifierKeyForPrivateKey } from '../../drivers/store/audit-log.ts';
import { openDatabase, withDatabase, type Database } from '../../drivers/store/database.ts';
import { migrate } from '../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../drivers/store/schema.ts';
import { run } from './cli-fixture.ts';

const TRANSACTIONS = 8;
const ENTRIES_PER_TRANSACTION = 3;
const SIZE = TRANSACTIONS * ENTRIES_PER_TRANSACTION;

function dropTriggers(db: Database): void {
  db.exec('DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;');
}

describe('audit-log verify on a tampered kiosk database', () => {
  let dir: string;
  let pristine: string;
  let verifierKey: string;
  let counter = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-audit-'));
    pristine = path.join(dir, 'pristine.db');
    const keys = generateEd25519KeyPair();
    const db = openDatabase(pristine);
    migrate(db, 'kiosk', KIOSK_MIGRATIONS);
    let nowMs = Date.parse('2026-11-02T01:00:00Z');
    const log = new AuditLog(db, { origin: auditOrigin('kiosk', 'K0001'), privateKeyPem: keys.privateKeyPem, clock: { nowMs: () => (nowMs += 1000) } });
    verifierKey = log.verifierKey;
    for (let transaction = 0; transaction < TRANSACTIONS; transaction += 1) {
      log.append(
        { kind: 'card.read', data: { cardKind: 'my-number-card' } },
        { kind: 'certificate.printed', data: { requestId: `r${transaction}`, copy: 1 } },
        { kind: 'transaction.recorded', data: { requestId: `r${transaction}`, outcome: 'issued', copies: 1, feeYen: 300 } },
      );
    }
    db.close();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A copy of the pristine log, changed by `tamper` through plain SQL as an intruder would. */
  function tampered(tamper: (db: Database) => void): string {
    counter += 1;
    const file = path.join(dir, `tampered-${counter}.db`);
    fs.copyFileSync(pristine, file);
    withDatabase(file, tamper);
    return file;
  }

  async function verify(file: string, ...flags: string[]) {
    return run('audit-log', 'verify', '--db', file, '--key', verifierKey, ...flags);
  }

  function entryBytes(db: Database, index: number): Uint8Array {
    return db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = :index', { index })!.entry;
  }

  it('passes an untouched log, exit 0', async () => {
    const result = await verify(pristine);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`sound: ${SIZE} entries, 1 checkpoints match`));
    const thorough = await verify(pristine, '--thorough');
    assert.equal(thorough.code, 0, thorough.stderr);
    assert.match(thorough.stdout, new RegExp(`sound: ${SIZE} entries, ${TRANSACTIONS} checkpoints match`));
  });

  it('refuses to take the key from the database: --db needs --key', async () => {
    const result = await run('audit-log', 'verify', '--db', pristine);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--key/);
  });

  it("names an entry whose bytes were edited, even with the update trigger in the way", async () => {
    const file = tampered((db) => {
      assert.throws(() => db.run("UPDATE audit_entries SET entry = X'00' WHERE idx = 4"), /append-only/);
      dropTriggers(db);
      const edited = Buffer.from(entryBytes(db, 4)).toString().replace('"copy":1', '"copy":2');
      db.run('UPDATE audit_entries SET entry = :entry WHERE idx = 4', { entry: Buffer.from(edited) });
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 4 was changed/);
  });

  it('names an entry that was edited and whose stored hash was recomputed', async () => {
    const file = tampered((db) => {
      dropTriggers(db);
      const edited = Buffer.from(Buffer.from(entryBytes(db, 11)).toString().replace('"feeYen":300', '"feeYen":30'));
      db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = 11', { entry: edited, leaf: auditHasher.leafHash(edited) });
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 11 was changed, removed or inserted/);
  });

  it('names the last entry when it was edited and rehashed (only the checkpoint can tell)', async () => {
    const last = SIZE - 1;
    const file = tampered((db) => {
      dropTriggers(db);
      const edited = Buffer.from(Buffer.from(entryBytes(db, last)).toString().replace('"feeYen":300', '"feeYen":0'));
      db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = :last', { entry: edited, leaf: auditHasher.leafHash(edited), last });
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, new RegExp(`entries 0\\.\\.${last} do not match the log's checkpoint at size ${SIZE}`));
    // Every stored checkpoint narrows it down to the last transaction.
    const thorough = await verify(file, '--thorough');
    assert.equal(thorough.code, 3);
    assert.match(thorough.stderr, new RegExp(`entries ${SIZE - ENTRIES_PER_TRANSACTION}\\.\\.${last} do not match the log's checkpoint at size ${SIZE}`));
  });

  it('names a deleted entry', async () => {
    const file = tampered((db) => {
      assert.throws(() => db.run('DELETE FROM audit_entries WHERE idx = 7'), /append-only/);
      dropTriggers(db);
      db.run('DELETE FROM audit_entries WHERE idx = 7');
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 7 is missing/);
  });

  it('names an inserted entry', async () => {
    const file = tampered((db) => {
      dropTriggers(db);
      // Make room at 4 by moving every later entry up one, then slip a forged entry in.
      for (let index = SIZE - 1; index >= 4; index -= 1) db.run('UPDATE audit_entries SET idx = idx + 1 WHERE idx = :index', { index });
      const forged = Buffer.from(entryBytes(db, 3));
      db.run('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (4, :entry, :leaf)', { entry: forged, leaf: auditHasher.leafHash(forged) });
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 4 /);
  });

  it('names two entries that were swapped', async () => {
    const file = tampered((db) => {
      dropTriggers(db);
      db.run('UPDATE audit_entries SET idx = -1 WHERE idx = 12');
      db.run('UPDATE audit_entries SET idx = 12 WHERE idx = 13');
      db.run('UPDATE audit_entries SET idx = 13 WHERE idx = -1');
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 12 records position 13: entries were moved or reordered/);
  });

  it('names the first missing entry when the tail was cut off', async () => {
    const file = tampered((db) => {
      dropTriggers(db);
      db.run('DELETE FROM audit_entries WHERE idx >= 20');
    });
    const result = await verify(file);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 20 is missing: the log's checkpoint at size 24 covers entries up to 23/);
  });

  it('refuses to extend a log that no longer matches its checkpoint', () => {
    const file = tampered((db) => {
      dropTriggers(db);
      db.run('DELETE FROM audit_entries WHERE idx >= 20');
    });
    const db = openDatabase(file);
    try {
      assert.throws(
        () => new AuditLog(db, { origin: auditOrigin('kiosk', 'K0001'), privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => 0 } }),
        /shorter than its signed checkpoint|does not carry|no longer matches|not signed|unverified/,
      );
    } finally {
      db.close();
    }
  });

  it('proves inclusion and consistency, and the proofs verify without the database', async () => {
    const inclusion = await run('audit-log', 'prove', '--db', pristine, '--key', verifierKey, '--index', '7');
    assert.equal(inclusion.code, 0, inclusion.stderr);
    const inclusionFile = path.join(dir, 'inclusion.json');
    fs.writeFileSync(inclusionFile, inclusion.stdout);
    const checked = await run('audit-log', 'verify-proof', '--proof', inclusionFile, '--key', verifierKey);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, new RegExp(`entry 7 is in cvs-issue/kiosk/K0001 at size ${SIZE}`));

    const forged = JSON.parse(inclusion.stdout);
    forged.index = 8;
    fs.writeFileSync(inclusionFile, JSON.stringify(forged));
    assert.equal((await run('audit-log', 'verify-proof', '--proof', inclusionFile, '--key', verifierKey)).code, 3);

    const consistency = await run('audit-log', 'prove', '--db', pristine, '--key', verifierKey, '--from', '6', '--to', String(SIZE));
    assert.equal(consistency.code, 0, consistency.stderr);
    const consistencyFile = path.join(dir, 'consistency.json');
    fs.writeFileSync(consistencyFile, consistency.stdout);
    const consistent = await run('audit-log', 'verify-proof', '--proof', consistencyFile, '--key', verifierKey);
    assert.equal(consistent.code, 0, consistent.stderr);

    const strangerKey = verifierKeyForPrivateKey(auditOrigin('kiosk', 'K0001'), generateEd25519KeyPair().privateKeyPem);
    assert.equal((await run('audit-log', 'verify-proof', '--proof', consistencyFile, '--key', strangerKey)).code, 3);
  });

  it('exports a log that verifies elsewhere, and catches an edited export', async () => {
    const exported = await run('audit-log', 'export', '--db', pristine, '--key', verifierKey);
    assert.equal(exported.code, 0, exported.stderr);
    const exportFile = path.join(dir, 'export.jsonl');
    fs.writeFileSync(exportFile, exported.stdout);
    assert.equal((await run('audit-log', 'verify', '--export', exportFile, '--key', verifierKey)).code, 0);
    const lines = exported.stdout.trim().split('\n');
    const edited = JSON.parse(lines[1]!);
    edited.entryBase64 = Buffer.from(Buffer.from(edited.entryBase64, 'base64').toString().replace('my-number-card', 'juki-card')).toString('base64');
    lines[1] = JSON.stringify(edited);
    fs.writeFileSync(exportFile, `${lines.join('\n')}\n`);
    const result = await run('audit-log', 'verify', '--export', exportFile, '--key', verifierKey);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /entry 0 was changed/);
  });
});
