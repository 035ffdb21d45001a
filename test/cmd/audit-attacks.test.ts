// Proves the audit log holds against an intruder with file access and no key (an unsigned tail,
// in the database and in an export; non-canonical entries), against contradicting proof files,
// against equivocation, and that an outside witness's cosignature is required and checked.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeAuditEntry } from '../../core/audit-entry.ts';
import { hexEncode, utf8Encode } from '../../core/bytes.ts';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { AuditLog, auditHasher, auditOrigin, latestCheckpoint } from '../../drivers/store/audit-log.ts';
import { openDatabase, withDatabase, type Database } from '../../drivers/store/database.ts';
import { migrate } from '../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../drivers/store/schema.ts';
import { run } from './cli-fixture.ts';

const ORIGIN = auditOrigin('kiosk', 'K0009');

describe('audit-log against an intruder with file access', () => {
  let dir: string;
  let pristine: string;
  let privateKeyPem: string;
  let verifierKey: string;
  let counter = 0;
  let nowMs = Date.parse('2026-11-02T01:00:00Z');
  const clock = { nowMs: () => (nowMs += 1000) };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-attack-'));
    pristine = path.join(dir, 'pristine.db');
    privateKeyPem = generateEd25519KeyPair().privateKeyPem;
    const db = openDatabase(pristine);
    migrate(db, 'kiosk', KIOSK_MIGRATIONS);
    const log = new AuditLog(db, { origin: ORIGIN, privateKeyPem, clock });
    verifierKey = log.verifierKey;
    for (let transaction = 0; transaction < 10; transaction += 1) log.append({ kind: 'maintenance.login', data: { outcome: 'refused' } });
    db.close();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function copy(): string {
    counter += 1;
    const file = path.join(dir, `copy-${counter}.db`);
    fs.copyFileSync(pristine, file);
    return file;
  }

  /** Appends an entry as an intruder would: right index, right link, right hash, no signature. */
  function appendUnsigned(db: Database, data: Record<string, string | number | boolean | null>, kind = 'maintenance.login'): void {
    const last = db.get<{ idx: number; leaf_hash: Uint8Array }>('SELECT idx, leaf_hash FROM audit_entries ORDER BY idx DESC LIMIT 1')!;
    const entry = encodeAuditEntry({ index: last.idx + 1, previous: hexEncode(last.leaf_hash), time: '2026-11-02T02:00:00.000Z', kind, data });
    db.run('INSERT INTO audit_entries (idx, entry, leaf_hash) VALUES (:index, :entry, :leaf)', { index: last.idx + 1, entry, leaf: auditHasher.leafHash(entry) });
  }

  const verify = (file: string) => run('audit-log', 'verify', '--db', file, '--key', verifierKey);

  it('fails an unsigned tail, naming the first uncovered entry, exit 3', async () => {
    const file = copy();
    withDatabase(file, (db) => appendUnsigned(db, { outcome: 'accepted' }));
    const result = await verify(file);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stderr, /entry 10 is not covered by any signed checkpoint/);
  });

  it('refuses to open such a log for writing instead of signing over the forged entry', async () => {
    const file = copy();
    withDatabase(file, (db) => appendUnsigned(db, { outcome: 'accepted' }));
    const db = openDatabase(file);
    try {
      assert.throws(() => new AuditLog(db, { origin: ORIGIN, privateKeyPem, clock }), (error: Error & { code?: string }) => error.code === 'audit.uncovered' && /entries 10\.\.10/.test(error.message));
      assert.equal(latestCheckpoint(db)!.size, 10);
    } finally {
      db.close();
    }
  });

  it('fails an export with an unsigned entry appended, exit 3', async () => {
    const exported = await run('audit-log', 'export', '--db', pristine, '--key', verifierKey);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trim().split('\n');
    const header = JSON.parse(lines[0]!) as { size: number };
    assert.equal(header.size, 10);
    const entries = lines.filter((line) => line.startsWith('{"index"'));
    const last = JSON.parse(entries.at(-1)!) as { index: number; entryBase64: string };
    const lastLeaf = auditHasher.leafHash(Buffer.from(last.entryBase64, 'base64'));
    const forged = encodeAuditEntry({ index: 10, previous: hexEncode(lastLeaf), time: '2026-11-02T02:00:00.000Z', kind: 'maintenance.login', data: { outcome: 'accepted' } });
    const at = lines.indexOf(entries.at(-1)!) + 1;
    lines.splice(at, 0, JSON.stringify({ index: 10, entryBase64: Buffer.from(forged).toString('base64') }));
    const file = path.join(dir, 'forged.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const untouched = path.join(dir, 'untouched.jsonl');
    fs.writeFileSync(untouched, exported.stdout);
    assert.equal((await run('audit-log', 'verify', '--export', untouched, '--key', verifierKey)).code, 0);
    const result = await run('audit-log', 'verify', '--export', file, '--key', verifierKey);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stderr, /entry 10 is not covered by any signed checkpoint/);
  });

  it('fails entries outside the grammar even when they hash and link correctly', async () => {
    const cases: [string, (db: Database) => void, RegExp][] = [
      ['a name in the data', (db) => appendUnsigned(db, { outcome: 'refused', name: '山田太郎' }), /field "name" is not allowed/],
      ['an unknown kind', (db) => appendUnsigned(db, {}, 'resident.exported'), /not a known kind/],
      ['a field of another kind', (db) => appendUnsigned(db, { outcome: 'refused', feeYen: 300 }), /field "feeYen" is not allowed in a maintenance.login entry/],
    ];
    for (const [what, tamper, expected] of cases) {
      const file = copy();
      withDatabase(file, tamper);
      const result = await verify(file);
      assert.equal(result.code, 3, what);
      assert.match(result.stderr, expected, what);
    }
  });

  it('fails an entry with an extra top-level field or in a non-canonical spelling', async () => {
    for (const [what, text] of [
      ['an extra field', (json: string) => json.replace('"data":', '"pin":"1234","data":')],
      ['extra spacing', (json: string) => json.replace('"kind":', '"kind": ')],
    ] as const) {
      const file = copy();
      withDatabase(file, (db) => {
        db.exec('DROP TRIGGER audit_entries_no_update;');
        const row = db.get<{ entry: Uint8Array }>('SELECT entry FROM audit_entries WHERE idx = 9')!;
        const changed = utf8Encode(text(Buffer.from(row.entry).toString('utf8')));
        db.run('UPDATE audit_entries SET entry = :entry, leaf_hash = :leaf WHERE idx = 9', { entry: changed, leaf: auditHasher.leafHash(changed) });
      });
      const result = await verify(file);
      assert.equal(result.code, 3, what);
      assert.match(result.stderr, /entry 9 does not follow the entry grammar/, what);
    }
  });

  it('reports two signatures over different trees of one size as equivocation, naming both sources', async () => {
    // The key holder forks: the same size, another history, signed again; the old note was kept elsewhere.
    const file = copy();
    const original = withDatabase(file, (db) => latestCheckpoint(db)!.note);
    withDatabase(file, (db) => {
      db.exec(['audit_entries', 'audit_checkpoints', 'audit_nodes'].map((table) => `DROP TRIGGER ${table}_no_delete; DELETE FROM ${table};`).join(' '));
      const forked = new AuditLog(db, { origin: ORIGIN, privateKeyPem, clock });
      for (let transaction = 0; transaction < 10; transaction += 1) forked.append({ kind: 'maintenance.login', data: { outcome: 'accepted' } });
    });
    const cosignedFile = path.join(dir, 'held.note');
    fs.writeFileSync(cosignedFile, original);
    // The old note reaches verify as a witness would hold it: as a kept cosignature.
    const witnessKey = path.join(dir, 'auditor.key');
    const made = await run('audit-log', 'witness-key', '--name', 'auditor.example', '--out', witnessKey);
    assert.equal(made.code, 0, made.stderr);
    const witnessVkey = made.stdout.trim();
    const exportFile = path.join(dir, 'pristine.jsonl');
    assert.equal((await run('audit-log', 'export', '--db', pristine, '--key', verifierKey, '--out', exportFile)).code, 0);
    const state = path.join(dir, 'auditor-state.json');
    const cosigned = await run('audit-log', 'witness', '--export', exportFile, '--log-key', verifierKey, '--key', witnessKey, '--name', 'auditor.example', '--state', state);
    assert.equal(cosigned.code, 0, cosigned.stderr);
    withDatabase(file, (db) =>
      db.run("INSERT INTO audit_cosignatures (size, witness, note, timestamp, received_at) VALUES (10, 'auditor.example', :note, 0, '2026-11-02T00:00:00Z')", { note: cosigned.stdout }),
    );
    const result = await run('audit-log', 'verify', '--db', file, '--key', verifierKey, '--witness-key', witnessVkey);
    assert.equal(result.code, 3, result.stdout);
    assert.match(result.stderr, /equivocation: the log's key signed two different trees of size 10/);
    assert.match(result.stderr, /the log's checkpoint at size 10/);
    assert.match(result.stderr, /the cosignature by auditor.example at size 10/);
  });

  it('requires the cosignature of each --witness-key, and a witness refuses an export that rolled back', async () => {
    const witnessKey = path.join(dir, 'second.key');
    const witnessVkey = (await run('audit-log', 'witness-key', '--name', 'second.example', '--out', witnessKey)).stdout.trim();
    const file = copy();
    const missing = await run('audit-log', 'verify', '--db', file, '--key', verifierKey, '--witness-key', witnessVkey);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no cosignature by the witness second.example/);

    const exportFile = path.join(dir, `export-${counter}.jsonl`);
    assert.equal((await run('audit-log', 'export', '--db', file, '--key', verifierKey, '--out', exportFile)).code, 0);
    const state = path.join(dir, 'second-state.json');
    const witnessArgs = ['--log-key', verifierKey, '--key', witnessKey, '--name', 'second.example', '--state', state];
    const cosigned = await run('audit-log', 'witness', '--export', exportFile, ...witnessArgs);
    assert.equal(cosigned.code, 0, cosigned.stderr);
    const noteFile = path.join(dir, 'second.note');
    fs.writeFileSync(noteFile, cosigned.stdout);
    const kept = await run('audit-log', 'cosign', '--db', file, '--key', verifierKey, '--note', noteFile, '--witness-key', witnessVkey);
    assert.equal(kept.code, 0, kept.stderr);
    const sound = await run('audit-log', 'verify', '--db', file, '--key', verifierKey, '--witness-key', witnessVkey);
    assert.equal(sound.code, 0, sound.stderr);
    assert.match(sound.stdout, /cosigned by second.example/);

    // An export of an older state of the same log: the witness has seen more and says so.
    const older = path.join(dir, 'older.jsonl');
    const lines = fs.readFileSync(exportFile, 'utf8').trim().split('\n');
    const checkpoints = lines.filter((line) => line.startsWith('{"checkpoint"'));
    const atFive = JSON.parse(checkpoints[4]!) as { checkpoint: { size: number; note: string } };
    const header = { ...JSON.parse(lines[0]!), size: 5, latest: atFive.checkpoint.note, cosignatures: [] };
    const entries = lines.filter((line) => line.startsWith('{"index"')).slice(0, 5);
    fs.writeFileSync(older, `${[JSON.stringify(header), ...entries].join('\n')}\n`);
    const rolledBack = await run('audit-log', 'witness', '--export', older, ...witnessArgs);
    assert.equal(rolledBack.code, 3, rolledBack.stdout);
    assert.match(rolledBack.stderr, /entry 5 is missing: the checkpoint this witness cosigned before covers entries up to 9/);
  });

  it('fails a proof whose unsigned fields contradict its signed checkpoints, exit 3', async () => {
    const proved = await run('audit-log', 'prove', '--db', pristine, '--key', verifierKey, '--from', '3', '--to', '10');
    assert.equal(proved.code, 0, proved.stderr);
    const proof = JSON.parse(proved.stdout) as Record<string, unknown>;
    const file = path.join(dir, 'proof.json');
    fs.writeFileSync(file, JSON.stringify(proof));
    assert.equal((await run('audit-log', 'verify-proof', '--proof', file, '--key', verifierKey)).code, 0);
    for (const [field, value, expected] of [
      ['origin', 'cvs-issue/kiosk/K0001', /"origin"/],
      ['fromSize', 4, /"fromSize" \(4\) is not the signed size 3/],
      ['toSize', 99, /"toSize" \(99\) is not the signed size 10/],
    ] as const) {
      fs.writeFileSync(file, JSON.stringify({ ...proof, [field]: value }));
      const result = await run('audit-log', 'verify-proof', '--proof', file, '--key', verifierKey);
      assert.equal(result.code, 3, field);
      assert.match(result.stderr, expected, field);
    }
    const inclusion = JSON.parse((await run('audit-log', 'prove', '--db', pristine, '--key', verifierKey, '--index', '4')).stdout) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...inclusion, size: 7 }));
    const wrongSize = await run('audit-log', 'verify-proof', '--proof', file, '--key', verifierKey);
    assert.equal(wrongSize.code, 3);
    assert.match(wrongSize.stderr, /"size" \(7\) is not the signed size 10/);
  });
});
