// C2SP tlog-checkpoint bodies and C2SP signed notes with Ed25519 keys (c2sp.org/tlog-checkpoint,
// c2sp.org/signed-note), byte-compatible with Go's golang.org/x/mod/sumdb/note. Pure: hashing,
// signing and verifying are injected.
import { base64Decode, base64Encode, bytesEqual, concatBytes, hexEncode, utf8Decode, utf8Encode } from './bytes.ts';
import { AppError } from './errors.ts';
import { MERKLE_HASH_BYTES, type Sha256 } from './merkle.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Opaque non-empty lines after the root hash; usually none. */
  extensions: string[];
}

export interface NoteVerifier {
  name: string;
  keyId: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  name: string;
  keyId: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

const SIGNATURE_PREFIX = '\u2014 '; // EM DASH, SPACE
const ED25519_TYPE = 0x01;
/** C2SP tlog-cosignature: Ed25519 cosignatures with a timestamp (cosignature/v1). */
const COSIGNATURE_TYPE = 0x04;
const COSIGNATURE_TIMESTAMP_BYTES = 8;
const ED25519_SIGNATURE_BYTES = 64;
const KEY_ID_BYTES = 4;
const ED25519_PUBLIC_KEY_BYTES = 32;
/** The spec asks verifiers to accept at least 16; Go's note package stops at 100. */
const MAX_SIGNATURES = 100;
const SIZE_PATTERN = /^(0|[1-9][0-9]*)$/;
const CONTROL_CHARACTER = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
// Unicode spaces as Go's unicode.IsSpace sees them (JavaScript's \s lacks U+0085), and plus.
const NAME_FORBIDDEN = /[\s\u0085+]/u;

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  if (origin === '' || origin.includes('\n')) throw badCheckpoint('the origin must be one non-empty line', 'line 1');
  if (!Number.isSafeInteger(size) || size < 0) throw badCheckpoint('the tree size must be a whole number', 'line 2');
  if (rootHash.length !== MERKLE_HASH_BYTES) throw badCheckpoint('the root hash must be 32 bytes', 'line 3');
  extensions.forEach((line, index) => {
    if (line === '' || line.includes('\n')) {
      throw badCheckpoint('an extension line must be one non-empty line', `line ${index + 4}`);
    }
  });
  return [origin, String(size), base64Encode(rootHash), ...extensions].join('\n') + '\n';
}

export function parseCheckpoint(body: string): Checkpoint {
  if (!body.endsWith('\n')) throw badCheckpoint('the checkpoint does not end in a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw badCheckpoint(`the checkpoint has ${lines.length} lines, at least 3 are needed`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw badCheckpoint('the origin is empty', 'line 1');
  if (!SIZE_PATTERN.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw badCheckpoint('the tree size is not a decimal number without leading zeroes', 'line 2');
  }
  const rootHash = decodeCanonicalBase64(rootText);
  if (!rootHash || rootHash.length !== MERKLE_HASH_BYTES) {
    throw badCheckpoint('the root hash is not the base64 of 32 bytes', 'line 3');
  }
  const emptyExtension = extensions.indexOf('');
  if (emptyExtension >= 0) throw badCheckpoint('an extension line is empty', `line ${emptyExtension + 4}`);
  return { origin, size: Number(sizeText), rootHash, extensions };
}

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], the key id signed-note recommends for Ed25519. */
export function ed25519KeyId(name: string, publicKey: Uint8Array, sha256: Sha256): Uint8Array {
  return keyIdOf(name, ED25519_TYPE, publicKey, sha256);
}

/** SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]: the key id of a C2SP tlog-cosignature key. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array, sha256: Sha256): Uint8Array {
  return keyIdOf(name, COSIGNATURE_TYPE, publicKey, sha256);
}

function keyIdOf(name: string, type: number, publicKey: Uint8Array, sha256: Sha256): Uint8Array {
  requirePublicKey(publicKey);
  return sha256(concatBytes(utf8Encode(name), Uint8Array.of(0x0a, type), publicKey)).slice(0, KEY_ID_BYTES);
}

export type VerifierKeyType = 'ed25519' | 'cosignature';

/** The vkey text a verifier is configured with: name+hex(key id)+base64(type ‖ public key). */
export function formatVerifierKey(name: string, publicKey: Uint8Array, sha256: Sha256, type: VerifierKeyType = 'ed25519'): string {
  requireName(name, 'note.bad_verifier_key');
  const typeByte = type === 'ed25519' ? ED25519_TYPE : COSIGNATURE_TYPE;
  const keyId = keyIdOf(name, typeByte, publicKey, sha256);
  return `${name}+${hexEncode(keyId)}+${base64Encode(concatBytes(Uint8Array.of(typeByte), publicKey))}`;
}

export function parseVerifierKey(
  vkey: string,
  sha256: Sha256,
): { name: string; keyId: Uint8Array; publicKey: Uint8Array; type: VerifierKeyType } {
  // The base64 part may itself contain '+', so split only at the first two.
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw badVerifierKey('a verifier key is name+keyid+key');
  const name = vkey.slice(0, first);
  const keyIdText = vkey.slice(first + 1, second);
  requireName(name, 'note.bad_verifier_key');
  if (!/^[0-9a-f]{8}$/i.test(keyIdText)) throw badVerifierKey('the key id is not 8 hex digits');
  const keyData = decodeCanonicalBase64(vkey.slice(second + 1));
  if (!keyData || keyData.length !== 1 + ED25519_PUBLIC_KEY_BYTES || (keyData[0] !== ED25519_TYPE && keyData[0] !== COSIGNATURE_TYPE)) {
    throw badVerifierKey('the key is not an Ed25519 public key (type 0x01 or cosignature type 0x04, and 32 bytes)');
  }
  const publicKey = keyData.slice(1);
  const keyId = keyIdOf(name, keyData[0], publicKey, sha256);
  if (hexEncode(keyId) !== keyIdText.toLowerCase()) throw badVerifierKey('the key id does not match the key');
  return { name, keyId, publicKey, type: keyData[0] === ED25519_TYPE ? 'ed25519' : 'cosignature' };
}

/** What a cosignature signs: "cosignature/v1", the time, then the whole checkpoint body. */
export function cosignatureMessage(body: string, timestampSeconds: number): Uint8Array {
  return utf8Encode(`cosignature/v1\ntime ${timestampSeconds}\n${body}`);
}

/**
 * A verifier for cosignature lines by one witness key, usable with openNote: the signature bytes
 * of such a line are an 8-byte big-endian timestamp and the Ed25519 signature.
 */
export function cosignatureVerifier(
  name: string,
  keyId: Uint8Array,
  verifyEd25519: (message: Uint8Array, signature: Uint8Array) => boolean,
): NoteVerifier {
  return {
    name,
    keyId,
    verify(message, signature) {
      if (signature.length !== COSIGNATURE_TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES) return false;
      const timestamp = readTimestamp(signature);
      if (timestamp === undefined) return false;
      return verifyEd25519(cosignatureMessage(utf8Decode(message), timestamp), signature.slice(COSIGNATURE_TIMESTAMP_BYTES));
    },
  };
}

function readTimestamp(signature: Uint8Array): number | undefined {
  let value = 0;
  for (let at = 0; at < COSIGNATURE_TIMESTAMP_BYTES; at += 1) value = value * 256 + signature[at]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The cosignature line a witness adds to a checkpoint note it accepts (C2SP tlog-cosignature). */
export function cosignatureLine(body: string, timestampSeconds: number, signer: NoteSigner): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw malformed('a cosignature time is whole seconds');
  requireName(signer.name, 'note.malformed');
  const timestamp = new Uint8Array(COSIGNATURE_TIMESTAMP_BYTES);
  for (let at = COSIGNATURE_TIMESTAMP_BYTES - 1, rest = timestampSeconds; at >= 0; at -= 1, rest = Math.floor(rest / 256)) timestamp[at] = rest % 256;
  const signature = signer.sign(cosignatureMessage(body, timestampSeconds));
  return `${SIGNATURE_PREFIX}${signer.name} ${base64Encode(concatBytes(signer.keyId, timestamp, signature))}`;
}

/** A note with one more signature line. */
export function addSignatureLine(note: string, line: string): string {
  splitNote(note);
  parseSignatureLine(line, 'the new signature');
  return `${note}${line}\n`;
}

/** The signature lines of a note, as text, with the name and bytes of each. */
export function signatureLines(note: string): { line: string; name: string; keyId: Uint8Array; signature: Uint8Array }[] {
  const { signatures, lines } = splitNote(note);
  return signatures.map((signature, at) => ({ line: lines[at]!, ...signature }));
}

/** The body of a signed note, unverified: for display and for rebuilding, never for trust. */
export function noteBody(note: string): string {
  return splitNote(note).body;
}

/** The time in a cosignature's bytes (after the key id). */
export function cosignatureTimestamp(signature: Uint8Array): number | undefined {
  return signature.length === COSIGNATURE_TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES ? readTimestamp(signature) : undefined;
}

/** body + blank line + "— name base64(key id ‖ signature)". The signed message is the body's
 * UTF-8 bytes, final newline included. */
export function signNote(body: string, signer: NoteSigner): string {
  requireNoteText(body, 'note.malformed');
  if (!body.endsWith('\n')) throw malformed('the note text must end in a newline');
  requireName(signer.name, 'note.malformed');
  if (signer.keyId.length !== KEY_ID_BYTES) throw malformed('a key id must be 4 bytes');
  const signature = signer.sign(utf8Encode(body));
  return `${body}\n${SIGNATURE_PREFIX}${signer.name} ${base64Encode(concatBytes(signer.keyId, signature))}\n`;
}

/** Checks a signed note against the keys we trust. Signatures by unknown keys are ignored; a
 * known key whose signature fails rejects the whole note (as the spec advises and Go does). */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): { body: string; verifiedBy: string[] } {
  const { body, signatures } = splitNote(note);
  const message = utf8Encode(body);
  const verifiedBy: string[] = [];
  const seen = new Set<string>();
  for (const { name, keyId, signature } of signatures) {
    const verifier = verifiers.find((known) => known.name === name && bytesEqual(known.keyId, keyId));
    if (!verifier) continue;
    const identity = `${name}+${hexEncode(keyId)}`;
    if (seen.has(identity)) continue; // Go ignores repeated signatures by one key.
    seen.add(identity);
    if (!verifier.verify(message, signature)) {
      throw new AppError('input', 'note.unverified', `the signature by ${name} does not verify`);
    }
    verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) throw new AppError('input', 'note.unverified', 'no trusted key signed this note');
  return { body, verifiedBy };
}

interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
}

function splitNote(note: string): { body: string; signatures: NoteSignature[]; lines: string[] } {
  requireNoteText(note, 'note.malformed');
  if (!note.endsWith('\n')) throw malformed('a signed note must end in a newline');
  // The text ends at the last blank line; everything after it is signature lines.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('a signed note needs a blank line before its signatures');
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`a note may carry at most ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, index) => parseSignatureLine(line, `signature ${index + 1}`));
  return { body, signatures, lines };
}

function parseSignatureLine(line: string, where: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed('a signature line must start with an em dash and a space', where);
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw malformed('a signature line is "— name signature"', where);
  const name = rest.slice(0, space);
  requireName(name, 'note.malformed', where);
  const bytes = decodeCanonicalBase64(rest.slice(space + 1));
  if (!bytes || bytes.length <= KEY_ID_BYTES) throw malformed('the signature is not base64 of a key id and signature', where);
  return { name, keyId: bytes.slice(0, KEY_ID_BYTES), signature: bytes.slice(KEY_ID_BYTES) };
}

function requireNoteText(text: string, code: string): void {
  if (CONTROL_CHARACTER.test(text)) throw new AppError('input', code, 'a note may not contain control characters other than newline');
  if (LONE_SURROGATE.test(text)) throw new AppError('input', code, 'a note must be valid UTF-8');
}

function requireName(name: string, code: string, where?: string): void {
  if (name === '' || NAME_FORBIDDEN.test(name) || LONE_SURROGATE.test(name) || CONTROL_CHARACTER.test(name)) {
    throw new AppError('input', code, 'a key name must be non-empty, without spaces or "+"', where);
  }
}

function requirePublicKey(publicKey: Uint8Array): void {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) throw badVerifierKey('an Ed25519 public key is 32 bytes');
}

/** Standard padded base64 that re-encodes to the same text, or undefined: one value, one spelling. */
function decodeCanonicalBase64(text: string): Uint8Array | undefined {
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    const bytes = base64Decode(text);
    return base64Encode(bytes) === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function badCheckpoint(message: string, where?: string): AppError {
  return new AppError('input', 'note.bad_checkpoint', message, where);
}

function badVerifierKey(message: string): AppError {
  return new AppError('input', 'note.bad_verifier_key', message);
}

function malformed(message: string, where?: string): AppError {
  return new AppError('input', 'note.malformed', message, where);
}
