// Group commit (docs/audit-log.md, "Group commit"), what `center serve` and `relay serve` run with:
// the transactions of one turn share one database transaction and one signed checkpoint, which no
// other connection sees before it is committed; a transaction that throws takes only itself back; a
// group whose commit fails keeps nothing, and the answers that overlapped it are 503; a process
// that dies before the commit leaves the log as the last commit left it, and it verifies and opens.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerWhenCommitted } from '../../../cmd/committed-handler.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin, logSize, noteVerifierFromKey, readCheckpoints, verifyStoredLog } from '../../../drivers/store/audit-log.ts';
import { openDatabase, type Database } from '../../../drivers/store/database.ts';
import { migrate } from '../../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../../drivers/store/schema.ts';
import type { IncomingRequest } from '../../../drivers/http/server.ts';

const origin = auditOrigin('kiosk', 'K0001');
const keys = generateEd25519KeyPair();
const clock = { nowMs: () => Date.parse('2026-12-01T01:00:00Z') };
const event = (requestId: string) => ({ kind: 'certificate.printed', data: { requestId, copy: 1 } });

describe('audit group commit', () => {
  let dir: string;
  let files = 0;
  let verifierKey = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-group-commit-'));
    const { db, log } = freshLog();
    verifierKey = log.verifierKey;
    db.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** `groupWindowMs`: the servers' 2 ms, unless a test needs a window no machine's pause outlasts. */
  function freshLog(groupWindowMs?: number): { file: string; db: Database; log: AuditLog } {
    files += 1;
    const file = path.join(dir, `log-${files}.db`);
    const db = openDatabase(file);
    migrate(db, 'kiosk', KIOSK_MIGRATIONS);
    const log = new AuditLog(db, { origin, privateKeyPem: keys.privateKeyPem, clock, groupCommit: true, groupWindowMs });
    return { file, db, log };
  }

  function verdictOf(file: string) {
    const reader = openDatabase(file, { readonly: true });
    try {
      const verification = verifyStoredLog(reader, { origin, verifiers: [noteVerifierFromKey(verifierKey)], thorough: true });
      return { verification, size: logSize(reader), checkpoints: readCheckpoints(reader).map((checkpoint) => checkpoint.size) };
    } finally {
      reader.close();
    }
  }

  it('commits the transactions of one turn together under one checkpoint, unseen by others until then', async () => {
    const { file, db, log } = freshLog();
    log.append(event('R1'));
    log.transaction([event('R2')], () => db.run("INSERT INTO audit_witnessed (size, acknowledged_at) VALUES (2, 'x')"));
    log.append(event('R3'));
    assert.equal(log.size, 3);
    const other = openDatabase(file, { readonly: true });
    assert.equal(logSize(other), 0, 'another connection sees nothing before the commit');
    await log.committed();
    assert.equal(logSize(other), 3);
    other.close();
    log.append(event('R4'));
    await log.committed();
    db.close();
    const { verification, checkpoints } = verdictOf(file);
    assert.equal(verification.ok, true);
    assert.deepEqual(checkpoints, [3, 4], 'one checkpoint per group');
  });

  it('keeps a group open for a request still in its handler, and commits once none is left', async () => {
    const { file, db, log } = freshLog(600_000);
    const first = log.trackRequest();
    const second = log.trackRequest();
    log.append(event('R1'));
    first();
    await new Promise((resolve) => setImmediate(resolve));
    const other = openDatabase(file, { readonly: true });
    assert.equal(logSize(other), 0, 'the group waits for the request still in its handler');
    log.append(event('R2'));
    second();
    await log.committed();
    assert.equal(logSize(other), 2);
    other.close();
    db.close();
    assert.deepEqual(verdictOf(file).checkpoints, [2], 'both requests under one checkpoint');
  });

  it('commits a lone request at the end of its turn, and a group whose other request never writes within the window', async () => {
    const { file, db, log } = freshLog();
    const alone = log.trackRequest();
    log.append(event('R1'));
    alone();
    await new Promise((resolve) => setImmediate(resolve));
    const other = openDatabase(file, { readonly: true });
    assert.equal(logSize(other), 1, 'no wait when no other request is in its handler');
    const writer = log.trackRequest();
    const slow = log.trackRequest(); // never returns within the window: the group commits without it
    log.append(event('R2'));
    writer();
    await log.committed();
    assert.equal(logSize(other), 2);
    slow();
    slow(); // a second call changes nothing
    other.close();
    db.close();
    assert.deepEqual(verdictOf(file).checkpoints, [1, 2]);
  });

  it('takes back only the transaction that threw; the rest of its group commits and verifies', async () => {
    const { file, db, log } = freshLog();
    log.append(event('R1'));
    assert.throws(() =>
      log.transaction([event('R2')], () => {
        db.run("INSERT INTO audit_witnessed (size, acknowledged_at) VALUES (9, 'x')");
        throw new Error('refused');
      }),
    );
    log.append(event('R3'));
    await log.committed();
    assert.equal(db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_witnessed')!.n, 0);
    db.close();
    const { verification, size } = verdictOf(file);
    assert.equal(verification.ok, true);
    assert.equal(size, 2);
  });

  it('keeps nothing of a group whose commit fails, answers what overlapped it with 503, and goes on', async () => {
    const { file, db, log } = freshLog();
    log.append(event('R1'));
    await log.committed();
    // A trigger that fails the commit's checkpoint insert: the group cannot be committed.
    db.exec("CREATE TEMP TRIGGER fail_checkpoint BEFORE INSERT ON audit_checkpoints WHEN NEW.size = 3 BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    const handler = answerWhenCommitted(async () => {
      log.append(event('R2'));
      log.append(event('R3'));
      return { status: 200, body: '{}' };
    }, log);
    const answer = await handler({ method: 'POST', path: '/v1/x', headers: {}, body: new Uint8Array(), peer: { subject: {}, issuer: {}, serialNumber: '', fingerprint256: '', raw: new Uint8Array() } } satisfies IncomingRequest);
    assert.equal(answer.status, 503);
    assert.equal(log.size, 1, 'the tree is back where the group found it');
    db.exec('DROP TRIGGER fail_checkpoint');
    log.append(event('R2 again'));
    await log.committed();
    db.close();
    const { verification, size, checkpoints } = verdictOf(file);
    assert.equal(verification.ok, true);
    assert.equal(size, 2);
    assert.deepEqual(checkpoints, [1, 2]);
  });

  it('leaves the last committed log when the process dies before the commit: it opens and verifies', async () => {
    const { file, db, log } = freshLog();
    log.append(event('R1'));
    await log.committed();
    log.append(event('R2'));
    log.append(event('R3'));
    // What a kill -9 leaves: the connection gone with its transaction open (SQLite rolls it back).
    fs.copyFileSync(file, `${file}.crashed`);
    if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${file}.crashed-wal`);
    await log.committed();
    db.close();
    const crashed = `${file}.crashed`;
    const reopened = openDatabase(crashed);
    const again = new AuditLog(reopened, { origin, privateKeyPem: keys.privateKeyPem, clock, groupCommit: true });
    assert.equal(again.size, 1);
    again.append(event('R2'));
    await again.committed();
    reopened.close();
    const { verification, size } = verdictOf(crashed);
    assert.equal(verification.ok, true);
    assert.equal(size, 2);
  });
});
