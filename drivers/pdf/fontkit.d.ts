// fontkit ships no types; this is the one function font-face.ts calls (pdfkit depends on fontkit
// and takes the face it returns).
declare module 'fontkit' {
  export function create(buffer: Uint8Array, postscriptName?: string): unknown;
}
