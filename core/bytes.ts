// Byte helpers for the core, which must not depend on node:buffer.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, value) => value.toString(16).padStart(2, '0'));

// Indexed loops, not for-of: under Bun the array iterator of for-of was not inlined here and took
// more samples than the hex itself (together about 2% of the centre's main thread, issue 10).
export function hexEncode(bytes: Uint8Array): string {
  let out = '';
  for (let index = 0; index < bytes.length; index += 1) out += HEX[bytes[index]!];
  return out;
}

/** Lowercase or uppercase hex of even length; callers validate the text first. */
export function hexDecode(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length >> 1);
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = (nibble(text.charCodeAt(2 * index)) << 4) | nibble(text.charCodeAt(2 * index + 1));
  return bytes;
}

/** A hex digit's value, from its character code: 0-9, a-f, A-F (what parseInt(…, 16) read before). */
function nibble(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}

const BASE64_ALPHABET = utf8Encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d; // '='

/**
 * Base64 (RFC 4648 §4) without node:buffer: each 3 bytes become 4 ASCII codes in a byte array,
 * decoded to a string at once. Building a binary string for btoa took ~0.45 ms for a 70 KB
 * certificate PDF (Node and Bun), once per certificate request (bench/issuance.bench.ts); this
 * takes ~0.15–0.2 ms.
 */
export function base64Encode(bytes: Uint8Array): string {
  const whole = bytes.length - (bytes.length % 3);
  const out = new Uint8Array(((bytes.length + 2) / 3 | 0) * 4);
  let at = 0;
  for (let index = 0; index < whole; index += 3) {
    const triple = (bytes[index]! << 16) | (bytes[index + 1]! << 8) | bytes[index + 2]!;
    out[at] = BASE64_ALPHABET[triple >>> 18]!;
    out[at + 1] = BASE64_ALPHABET[(triple >>> 12) & 63]!;
    out[at + 2] = BASE64_ALPHABET[(triple >>> 6) & 63]!;
    out[at + 3] = BASE64_ALPHABET[triple & 63]!;
    at += 4;
  }
  const rest = bytes.length - whole;
  if (rest > 0) {
    const triple = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
    out[at] = BASE64_ALPHABET[triple >>> 18]!;
    out[at + 1] = BASE64_ALPHABET[(triple >>> 12) & 63]!;
    out[at + 2] = rest === 2 ? BASE64_ALPHABET[(triple >>> 6) & 63]! : PAD;
    out[at + 3] = PAD;
  }
  return decoder.decode(out);
}

export function base64Decode(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) out[index] = binary.charCodeAt(index);
  return out;
}

export function bytesEqual(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left[index]! ^ right[index]!;
  return difference === 0;
}
