// Base64 through the runtime's Buffer (native code on Node and Bun) for the hot paths that core's
// pure encoder (core/bytes.ts) would slow: the centre's certificate answers. Measured on a 70 KB
// PDF, warm: 0.010 ms (Bun) and 0.017 ms (Node) against 0.18 and 0.23 ms.

export function base64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
