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

export function hexEncode(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/** Lowercase or uppercase hex of even length; callers validate the text first. */
export function hexDecode(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length >> 1);
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = parseInt(text.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** Bytes per String.fromCharCode call: well under every engine's argument limit. */
const CHUNK = 0x3000;

/**
 * Base64 without node:buffer. The bytes go to fromCharCode through a Uint16Array and `apply`:
 * spreading a Uint8Array as arguments cost 8 ms for a 64 KB certificate PDF on Node, this ~1 ms
 * (bench/issuance.bench.ts).
 */
export function base64Encode(bytes: Uint8Array): string {
  const codes = new Uint16Array(Math.min(CHUNK, bytes.length));
  const parts: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    const length = Math.min(CHUNK, bytes.length - offset);
    codes.set(bytes.subarray(offset, offset + length));
    parts.push(String.fromCharCode.apply(null, codes.subarray(0, length) as unknown as number[]));
  }
  return btoa(parts.join(''));
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
