// Proves the witness rule (core/witness.ts): a first checkpoint is kept; a later one only with a
// consistency proof from what was kept; the same size again changes nothing; a fork, a shrunken
// log or another log's checkpoint is refused; an offer from a size the witness does not hold is a
// resync (nothing accepted, the size to prove from named); heartbeat bodies are parsed strictly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { noteOfWitnessRecord, parseCheckpointOfferBody, parseRelayHeartbeatAnswer, witness, witnessRecordOf, type CheckpointOffer, type WitnessedCheckpoint } from '../../core/witness.ts';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { AuditLog, auditHasher, auditOrigin, checkpointOffer, noteVerifierFromKey } from '../../drivers/store/audit-log.ts';
import { openDatabase, type Database } from '../../drivers/store/database.ts';
import { migrate } from '../../drivers/store/migrate.ts';
import { KIOSK_MIGRATIONS } from '../../drivers/store/schema.ts';

const origin = auditOrigin('kiosk', 'K0001');
const keys = generateEd25519KeyPair();

/** A kiosk log in memory, signed with `keys`. */
function kioskLog(): { db: Database; log: AuditLog; append(count: number): void } {
  const db = openDatabase(':memory:');
  migrate(db, 'kiosk', KIOSK_MIGRATIONS);
  let nowMs = Date.parse('2026-11-02T01:00:00Z');
  const log = new AuditLog(db, { origin, privateKeyPem: keys.privateKeyPem, clock: { nowMs: () => (nowMs += 1) } });
  return { db, log, append: (count) => { for (let index = 0; index < count; index += 1) log.append({ kind: 'card.read', data: { cardKind: 'my-number-card' } }); } };
}

const verifier = () => noteVerifierFromKey(kioskLog().log.verifierKey);
const decide = (offer: CheckpointOffer, previous: WitnessedCheckpoint | undefined) => witness({ offer, previous, origin, verifier: verifier(), hasher: auditHasher });

function refusedWith(code: string, work: () => unknown): void {
  assert.throws(work, (error: unknown) => error instanceof AppError && error.code === code);
}

describe('the witness rule', () => {
  it('keeps the first checkpoint, then each one proved to extend it, and nothing new for the same size', () => {
    const kiosk = kioskLog();
    kiosk.append(3);
    const first = decide(checkpointOffer(kiosk.db, 0)!, undefined);
    assert.equal(first.witnessedSize, 3);
    assert.ok(first.keep);
    // The record kept rebuilds the signed note byte for byte.
    assert.equal(noteOfWitnessRecord(witnessRecordOf(first.keep!.note, verifier())), first.keep!.note);
    kiosk.append(5);
    const second = decide(checkpointOffer(kiosk.db, 3)!, first.keep);
    assert.deepEqual([second.witnessedSize, second.keep?.size], [8, 8]);
    const again = decide(checkpointOffer(kiosk.db, 8)!, second.keep);
    assert.deepEqual([again.witnessedSize, again.keep], [8, undefined]);
  });

  it('refuses a fork signed with the same key, and a log that shrank', () => {
    const honest = kioskLog();
    honest.append(4);
    const kept = decide(checkpointOffer(honest.db, 0)!, undefined).keep!;
    const forked = kioskLog();
    forked.log.append({ kind: 'maintenance.login', data: { outcome: 'accepted' } });
    forked.append(5);
    refusedWith('witness.inconsistent', () => decide(checkpointOffer(forked.db, 4)!, kept));
    const shorter = kioskLog();
    shorter.append(2);
    refusedWith('witness.inconsistent', () => decide({ ...checkpointOffer(shorter.db, 0)!, fromSize: 4 }, kept));
  });

  it('answers an offer from a size it does not hold with that size, accepting nothing', () => {
    const kiosk = kioskLog();
    kiosk.append(3);
    const kept = decide(checkpointOffer(kiosk.db, 0)!, undefined).keep!;
    kiosk.append(3);
    assert.deepEqual(decide(checkpointOffer(kiosk.db, 1)!, kept), { keep: undefined, witnessedSize: 3, resync: true });
  });

  it("refuses another log's checkpoint, and a note signed with another key", () => {
    const kiosk = kioskLog();
    kiosk.append(2);
    const offer = checkpointOffer(kiosk.db, 0)!;
    assert.throws(() => witness({ offer, previous: undefined, origin: auditOrigin('kiosk', 'K0002'), verifier: verifier(), hasher: auditHasher }), AppError);
    const stranger = noteVerifierFromKey(new AuditLog(kioskLog().db, { origin, privateKeyPem: generateEd25519KeyPair().privateKeyPem, clock: { nowMs: () => 0 } }).verifierKey);
    assert.throws(() => witness({ offer, previous: undefined, origin, verifier: stranger, hasher: auditHasher }), AppError);
  });

  it('parses heartbeat bodies strictly: every field, its type and its bounds', () => {
    const good = { checkpointNote: 'x', fromSize: 0, consistencyProof: [] };
    assert.deepEqual(parseCheckpointOfferBody(good), good);
    for (const bad of [null, [], { ...good, fromSize: -1 }, { ...good, fromSize: 1.5 }, { ...good, consistencyProof: ['zz'] }, { ...good, consistencyProof: Array(65).fill('0'.repeat(64)) }, { ...good, checkpointNote: '' }]) {
      assert.throws(() => parseCheckpointOfferBody(bad), AppError, JSON.stringify(bad).slice(0, 60));
    }
    assert.deepEqual(parseRelayHeartbeatAnswer({ witnessedSize: 4 }), { witnessedSize: 4 });
    assert.throws(() => parseRelayHeartbeatAnswer({ witnessedSize: '4' }), AppError);
  });
});
