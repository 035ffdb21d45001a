// What a witness holds of another log, read from the witness's own audit log (docs/audit-log.md):
// the latest `witness.checkpoint` (a relay of a kiosk, the centre of a relay) or
// `witness.cosigned` (a relay of the centre) entry for that origin. The witness's tables are
// only a cache; the entry is covered by the witness's own signed checkpoint, so it cannot be
// removed without breaking the witness's log.

import { decodeAuditEntry } from '../../core/audit-entry.ts';
import { utf8Encode } from '../../core/bytes.ts';
import { noteOfWitnessRecord, witnessRecordFromData } from '../../core/witness.ts';
import type { Database } from './database.ts';

export interface HeldCheckpoint {
  /** The index of the witness's entry that records it. */
  entryIndex: number;
  /** The signed note, rebuilt byte for byte (with the witness's cosignature for `witness.cosigned`). */
  note: string;
  size: number;
}

/** The latest record of `origin` in the witness's log, or undefined when it never accepted one. */
export function latestHeldCheckpoint(witnessDb: Database, origin: string, kind: 'witness.checkpoint' | 'witness.cosigned'): HeldCheckpoint | undefined {
  // instr() over the BLOB finds candidates in C; each is then read against the whole grammar.
  const candidates = witnessDb.all<{ idx: number; entry: Uint8Array }>(
    'SELECT idx, entry FROM audit_entries WHERE instr(entry, :kind) > 0 AND instr(entry, :origin) > 0 ORDER BY idx DESC LIMIT 16',
    { kind: utf8Encode(`"kind":"${kind}"`), origin: utf8Encode(`"origin":${JSON.stringify(origin)}`) },
  );
  for (const candidate of candidates) {
    let entry;
    try {
      entry = decodeAuditEntry(candidate.entry);
    } catch {
      continue; // a broken entry is the witness log's verify to report
    }
    if (entry.kind !== kind || entry.data.origin !== origin) continue;
    const record = witnessRecordFromData(entry.data);
    if (!record) continue;
    const note = noteOfWitnessRecord(record);
    const cosignature = entry.data.cosignature;
    const witnessName = entry.data.witness;
    const held = kind === 'witness.cosigned' && typeof cosignature === 'string' && typeof witnessName === 'string' ? `${note}\u2014 ${witnessName} ${cosignature}\n` : note;
    return { entryIndex: candidate.idx, note: held, size: record.size };
  }
  return undefined;
}
