// A simulated card kept in a JSON file: written by `cvs-issue init`, read and updated (the PIN retry
// counter) by the simulated card, so a card locked in one run is still locked in the next.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { AppError } from '../../core/errors.ts';
import { AUTH_PIN_MAX_TRIES, type CardKind } from '../../core/jpki.ts';

export interface CardFile {
  version: 1;
  cardId: string;
  kind: CardKind;
  authCertificateDerBase64: string;
  authPrivateKeyPem: string;
  pin: string;
  pinTriesLeft: number;
  fault?: 'unreadable' | 'no-answer';
}

const CARD_KINDS: readonly CardKind[] = ['my-number-card', 'juki-card', 'smartphone'];
const FAULTS: readonly string[] = ['unreadable', 'no-answer'];

export function readCardFile(path: string): CardFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(path, `cannot read the card file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(path, 'the card file is not valid JSON');
  }
  return validateCardFile(path, parsed);
}

/** Writes the whole file to a temporary name and renames it, so a crash never leaves half a card. */
export function writeCardFile(path: string, card: CardFile): void {
  const temporaryPath = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const descriptor = openSync(temporaryPath, 'wx', 0o600);
  try {
    writeSync(descriptor, `${JSON.stringify(card, null, 2)}\n`);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporaryPath, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporaryPath, path);
}

function validateCardFile(path: string, value: unknown): CardFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'the card file must hold a JSON object');
  const record = value as Record<string, unknown>;
  if (record.version !== 1) throw invalidField(path, 'version', 'must be 1');
  const cardId = requireString(path, record, 'cardId');
  const kind = record.kind;
  if (typeof kind !== 'string' || !CARD_KINDS.includes(kind as CardKind)) {
    throw invalidField(path, 'kind', `must be one of ${CARD_KINDS.join(', ')}`);
  }
  const authCertificateDerBase64 = requireString(path, record, 'authCertificateDerBase64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(authCertificateDerBase64)) throw invalidField(path, 'authCertificateDerBase64', 'must be base64');
  const authPrivateKeyPem = requireString(path, record, 'authPrivateKeyPem');
  if (!authPrivateKeyPem.includes('PRIVATE KEY-----')) throw invalidField(path, 'authPrivateKeyPem', 'must be a PEM private key');
  const pin = requireString(path, record, 'pin');
  if (!/^[0-9]{4}$/.test(pin)) throw invalidField(path, 'pin', 'must be exactly 4 digits');
  const pinTriesLeft = record.pinTriesLeft;
  if (typeof pinTriesLeft !== 'number' || !Number.isInteger(pinTriesLeft) || pinTriesLeft < 0 || pinTriesLeft > AUTH_PIN_MAX_TRIES) {
    throw invalidField(path, 'pinTriesLeft', `must be an integer from 0 to ${AUTH_PIN_MAX_TRIES}`);
  }
  const card: CardFile = { version: 1, cardId, kind: kind as CardKind, authCertificateDerBase64, authPrivateKeyPem, pin, pinTriesLeft };
  if (record.fault !== undefined) {
    if (typeof record.fault !== 'string' || !FAULTS.includes(record.fault)) throw invalidField(path, 'fault', `must be one of ${FAULTS.join(', ')}`);
    card.fault = record.fault as CardFile['fault'];
  }
  return card;
}

function requireString(path: string, record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value.length === 0) throw invalidField(path, field, 'must be a non-empty string');
  return value;
}

function invalidField(path: string, field: string, rule: string): AppError {
  return invalid(path, `field "${field}" ${rule}`);
}

function invalid(path: string, message: string): AppError {
  return new AppError('input', 'card.file_invalid', message, path);
}
