// Audit-log exports (docs/audit-log.md, "Export"): JSON lines, written and read a page at a time
// so a log of any length moves in bounded memory. The header carries the latest signed checkpoint
// and the cosignatures, so a reader knows what the entries must add up to before it reads them.

import fs from 'node:fs';
import { AuditVerifier, type AuditVerification, type CheckpointEvidence } from '../core/audit-verify.ts';
import { base64Decode, base64Encode } from '../core/bytes.ts';
import { inputError } from '../core/errors.ts';
import type { NoteVerifier } from '../core/signed-note.ts';
import { auditHasher, latestCheckpoint, noteVerifierFromKey, readCosignatures } from '../drivers/store/audit-log.ts';
import type { Database } from '../drivers/store/database.ts';
import type { AuditTarget } from './audit-log.ts';
import { withReadOnlyDatabase } from './audit-log.ts';
import type { Io } from './io.ts';

export const EXPORT_FORMAT = 'cvs-issue-audit-export/2';
const PAGE_ROWS = 5_000;
const READ_CHUNK_BYTES = 1 << 20;
const MAX_LINE_BYTES = 1 << 20;

interface ExportHeader {
  format: string;
  origin: string;
  verifierKey: string;
  size: number;
  latest: string | null;
  cosignatures: string[];
}

function* exportLines(db: Database, target: AuditTarget): Generator<string> {
  const latest = latestCheckpoint(db);
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    origin: target.origin,
    verifierKey: target.verifierKey,
    size: latest?.size ?? 0,
    latest: latest?.note ?? null,
    cosignatures: readCosignatures(db).map((stored) => stored.note),
  };
  yield JSON.stringify(header);
  for (let first = 0; ; ) {
    const page = db.all<{ idx: number; entry: Uint8Array }>('SELECT idx, entry FROM audit_entries WHERE idx >= :first ORDER BY idx LIMIT :limit', { first, limit: PAGE_ROWS });
    for (const row of page) yield JSON.stringify({ index: row.idx, entryBase64: base64Encode(row.entry) });
    if (page.length < PAGE_ROWS) break;
    first = page.at(-1)!.idx + 1;
  }
  for (let first = 0; ; ) {
    const page = db.all<{ size: number; note: string }>('SELECT size, note FROM audit_checkpoints WHERE size >= :first ORDER BY size LIMIT :limit', { first, limit: PAGE_ROWS });
    for (const checkpoint of page) yield JSON.stringify({ checkpoint });
    if (page.length < PAGE_ROWS) break;
    first = page.at(-1)!.size + 1;
  }
}

/** Writes the export to FILE (atomically: a .partial file renamed at the end) or to stdout. */
export async function exportLog(target: AuditTarget, out: string | undefined, io: Io): Promise<void> {
  const temporary = out ? `${out}.partial` : undefined;
  const fd = temporary ? fs.openSync(temporary, 'w', 0o600) : undefined;
  let lines = 0;
  try {
    withReadOnlyDatabase(target.databaseFile, (db) => {
      let chunk: string[] = [];
      const flush = () => {
        const text = `${chunk.join('\n')}\n`;
        if (fd === undefined) io.out(text);
        else fs.writeSync(fd, text);
        chunk = [];
      };
      for (const line of exportLines(db, target)) {
        chunk.push(line);
        lines += 1;
        if (chunk.length >= PAGE_ROWS) flush();
      }
      if (chunk.length > 0) flush();
    });
    if (fd !== undefined) fs.fsyncSync(fd);
  } catch (error) {
    if (fd !== undefined) {
      fs.closeSync(fd);
      fs.rmSync(temporary!, { force: true });
    }
    throw error;
  }
  if (fd !== undefined) {
    fs.closeSync(fd);
    fs.renameSync(temporary!, out!);
    io.err(`exported ${lines - 1} lines of ${target.origin} to ${out}\n`);
  }
}

/** Calls `onLine(text, lineNumber)` for each line of the file, reading a chunk at a time. */
function forEachLine(file: string, onLine: (line: string, lineNumber: number) => boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw inputError('file.missing', 'cannot read the file', file);
  }
  try {
    const buffer = Buffer.alloc(READ_CHUNK_BYTES);
    let carry = '';
    let lineNumber = 0;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, null);
      let text: string;
      try {
        text = carry + decoder.decode(buffer.subarray(0, read), { stream: read > 0 });
      } catch {
        throw inputError('export.bad_line', 'not valid UTF-8', `${file}:${lineNumber + 1}`);
      }
      const lines = text.split('\n');
      carry = read > 0 ? lines.pop()! : '';
      if (carry.length > MAX_LINE_BYTES) throw inputError('export.bad_line', 'the line is too long', `${file}:${lineNumber + 1}`);
      for (const line of lines) {
        lineNumber += 1;
        if (!onLine(line, lineNumber)) return;
      }
      if (read === 0) return;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function parseHeader(line: string, file: string, verifierKey: string): ExportHeader {
  let header: ExportHeader;
  try {
    header = JSON.parse(line) as ExportHeader;
  } catch {
    throw inputError('export.bad_header', 'the first line is not a JSON export header', `${file}:1`);
  }
  if (typeof header !== 'object' || header === null || header.format !== EXPORT_FORMAT) {
    throw inputError('export.bad_header', `the first line must be a header of format ${EXPORT_FORMAT} (re-export the log with this version)`, `${file}:1`);
  }
  if ((header.latest !== null && typeof header.latest !== 'string') || !Array.isArray(header.cosignatures) || !header.cosignatures.every((note) => typeof note === 'string')) {
    throw inputError('export.bad_header', 'the header\'s "latest" and "cosignatures" must be signed notes', `${file}:1`);
  }
  if (noteVerifierFromKey(verifierKey).name !== header.origin) {
    throw inputError('export.wrong_key', `the export is of ${JSON.stringify(header.origin)}, the key of ${noteVerifierFromKey(verifierKey).name}`, `${file}:1`);
  }
  return header;
}

function decodeBase64(text: string, where: string): Uint8Array {
  try {
    return base64Decode(text);
  } catch {
    throw inputError('export.bad_line', 'field "entryBase64" is not base64', where);
  }
}

/** Verifies an export in one streaming pass against its header's latest checkpoint and cosignatures. */
export function verifyExportFile(
  file: string,
  verifierKey: string,
  witnessVerifiers: readonly NoteVerifier[],
  extraEvidence: readonly CheckpointEvidence[] = [],
): { origin: string; result: AuditVerification; evidence: CheckpointEvidence[] } {
  let header: ExportHeader | undefined;
  let verifier: AuditVerifier | undefined;
  let evidence: CheckpointEvidence[] = [];
  let inCheckpoints = false;
  forEachLine(file, (line, lineNumber) => {
    const where = `${file}:${lineNumber}`;
    if (!header) {
      if (line === '') throw inputError('export.empty', 'the file is empty: no export header', file);
      header = parseHeader(line, file, verifierKey);
      evidence = [...header.cosignatures.map((note, at) => ({ source: `the export's cosignature ${at + 1}`, note })), ...extraEvidence];
      verifier = new AuditVerifier(header.latest === null ? [] : [{ size: header.size, note: header.latest }], {
        hasher: auditHasher,
        origin: header.origin,
        verifiers: [noteVerifierFromKey(verifierKey)],
        witnessVerifiers,
        evidence,
      });
      return true;
    }
    if (line === '') return true;
    let value: { index?: unknown; entryBase64?: unknown; checkpoint?: { size?: unknown; note?: unknown } };
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      throw inputError('export.bad_line', 'not valid JSON', where);
    }
    if (value.checkpoint !== undefined) {
      if (typeof value.checkpoint !== 'object' || value.checkpoint === null || !Number.isSafeInteger(value.checkpoint.size) || typeof value.checkpoint.note !== 'string') {
        throw inputError('export.bad_line', 'a checkpoint line is {"checkpoint":{"size":N,"note":"…"}}', where);
      }
      inCheckpoints = true;
      return true;
    }
    if (!Number.isSafeInteger(value.index) || typeof value.entryBase64 !== 'string') throw inputError('export.bad_line', 'expected an entry or a checkpoint', where);
    if (inCheckpoints) throw inputError('export.bad_line', 'an entry after the checkpoints', where);
    const entry = decodeBase64(value.entryBase64, where);
    return verifier!.push(value.index as number, entry, auditHasher.leafHash(entry));
  });
  if (!header || !verifier) throw inputError('export.empty', 'the file is empty: no export header', file);
  return { origin: header.origin, result: verifier.finish(), evidence };
}
