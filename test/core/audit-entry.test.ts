// Proves the audit entry scanner (core/audit-entry.ts) is sound: the byte scanner that verify uses
// for speed never accepts an entry that the full decoder (JSON parse, grammar, canonical re-encode)
// rejects. Every kind is tried, and every byte of each entry is mutated in the ways that matter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_KINDS, FIRST_PREVIOUS, checkEntryBytes, decodeAuditEntry, encodeAuditEntry, scanEntryAt, scanned, type AuditValue } from '../../core/audit-entry.ts';

const SAMPLE: Record<string, AuditValue> = {
  kioskId: 'K0001', storeId: 'S0001', operatorId: 'OP01', requestId: 'R00000001', issuanceId: 'R00000001', residentRef: 'ref-1',
  municipalityCode: '131016', certificateType: 'juminhyo', copies: 2, copy: 1, feeYen: 300, paidYen: 1000, changeYen: 700,
  refundedYen: 300, outcome: 'issued', code: 'transport.timeout', cardKind: 'my-number-card', path: '/v1/completions', month: '2026-11',
  records: 10, documents: 12, duplicate: false, reason: 'misprint', size: 42, attempt: 1, pending: 0, businessDate: '2026-11-02',
  cashYen: 1200, transactions: 4, remoteAddress: null, status: 200, origin: 'cvs-issue/kiosk/K0001', rootHash: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=',
  signature: 'AAECAwQFBgcICQ==', cosignature: 'AAECAwQFBgcICQ==', witness: 'cvs-issue/relay/OP01', timestamp: 1764633600, fromSize: 7, settleMonth: '2026-12', count: 3, peers: 2, serialNumber: '716603B8B034ADD2693D72092DAF957D',
};

function entryOf(kind: string, index = 12): Uint8Array {
  const data = Object.fromEntries(AUDIT_KINDS[kind]!.map((field) => [field, SAMPLE[field]!]));
  return encodeAuditEntry({ index, previous: index === 0 ? FIRST_PREVIOUS : 'ab'.repeat(32), time: '2026-11-02T01:00:00.000Z', kind, data });
}

function slowAccepts(bytes: Uint8Array): boolean {
  try {
    decodeAuditEntry(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `check` with no stack traces captured: the bulk test below has the decoder refuse some
 * hundred thousand entries, and on Node capturing each error's stack was most of the file's time.
 * Only the verdicts are looked at, never the stacks; assertions run outside, with stacks.
 */
function withoutStacks<T>(check: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return check();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** JSON's structure and control bytes: tried at every position of every kind. */
const STRUCTURAL_MUTATIONS = [0x00, 0x0a, 0x22, 0x2c, 0x3a, 0x5c, 0x7b, 0x7d];
/** Bytes that keep the structure: three of them per position, in turn, so each meets every position of some kinds (issue 9: all of them at every position cost 7 s). */
const OTHER_MUTATIONS = [0x20, 0x2d, 0x30, 0x31, 0x39, 0x61, 0x66, 0x67, 0xc3];
const mutationsAt = (at: number, kindIndex: number): number[] => [
  ...STRUCTURAL_MUTATIONS,
  ...[0, 3, 6].map((offset) => OTHER_MUTATIONS[(at + kindIndex + offset) % OTHER_MUTATIONS.length]!),
];

describe('audit entry scanner', () => {
  it('takes every kind in canonical form, and finds its index and previous hash', () => {
    for (const kind of Object.keys(AUDIT_KINDS)) {
      const bytes = entryOf(kind);
      assert.equal(scanEntryAt(bytes, 0), bytes.length, kind);
      assert.equal(scanned.index, 12);
      assert.equal(new TextDecoder().decode(bytes.subarray(scanned.previousStart, scanned.previousStart + 64)), 'ab'.repeat(32));
      assert.ok(!('problem' in checkEntryBytes(bytes)), kind);
    }
  });

  it('never accepts a changed byte the full decoder refuses, for every kind and every position', () => {
    let refused = 0;
    for (const [kindIndex, kind] of Object.keys(AUDIT_KINDS).entries()) {
      const original = entryOf(kind);
      for (let at = 0; at < original.length; at += 1) {
        for (const byte of mutationsAt(at, kindIndex)) {
          if (original[at] === byte) continue;
          const mutated = original.slice();
          mutated[at] = byte;
          const fast = scanEntryAt(mutated, 0) === mutated.length;
          const [slow, checked] = withoutStacks(() => [slowAccepts(mutated), !('problem' in checkEntryBytes(mutated))]); // the full decoder's verdict, taken once
          if (fast) assert.ok(slow, `${kind}: byte ${at} → 0x${byte.toString(16)} passed the scanner: ${new TextDecoder().decode(mutated)}`);
          if (!slow) refused += 1;
          // checkEntryBytes, fast or slow, agrees with the decoder.
          assert.equal(checked, slow);
        }
      }
    }
    assert.ok(refused > 10_000, 'most mutations are refused');
  });

  it('does not run into what follows: an entry is taken only up to its own end', () => {
    const first = entryOf('card.read');
    const joined = new Uint8Array(first.length + 1 + first.length);
    joined.set(first, 0);
    joined.set(first, first.length + 1);
    assert.equal(scanEntryAt(joined, 0), first.length);
    assert.equal(scanEntryAt(joined, first.length + 1), joined.length);
    assert.equal(scanEntryAt(first.subarray(0, first.length - 1), 0), -1, 'a truncated entry');
  });
});
