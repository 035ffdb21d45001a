// Proves the seal's specialised QR encoder (drivers/pdf/qr-fixed.ts) draws the same symbol as npm
// qrcode, module for module, at every length where a block or the padding changes, for hundreds of
// seeded random byte strings and for real signed notes, English and Japanese; that the stencil
// image of a note is the one drawn from qrcode's symbol; and that it refuses what qrcode refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create as createQrCode } from 'qrcode';
import { utf8Encode } from '../../../core/bytes.ts';
import { DOCUMENT_KEY_NAME, formatDocumentStatement } from '../../../core/document-statement.ts';
import { signNote } from '../../../core/signed-note.ts';
import { Prng } from '../../../core/simulation/prng.ts';
import { qrImageOf } from '../../../drivers/pdf/document-seal.ts';
import { sealQrModules } from '../../../drivers/pdf/qr-fixed.ts';
import { QR_LEVEL, QR_MASK, QR_VERSION, QUIET_MODULES, ROW_BYTES, sealImagePlaceholder, STATEMENT_BYTES } from '../../../drivers/pdf/seal-blanks.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { noteSignerFor } from '../../../drivers/store/audit-log.ts';

function qrcodeSymbol(data: Uint8Array) {
  return createQrCode([{ data, mode: 'byte' }], { version: QR_VERSION, errorCorrectionLevel: QR_LEVEL, maskPattern: QR_MASK }).modules;
}

/** Fails naming the first module that differs, rather than printing two 4,761-byte arrays. */
function assertSameSymbol(data: Uint8Array, what: string): void {
  const expected = qrcodeSymbol(data);
  const actual = sealQrModules(data);
  assert.equal(actual.length, expected.data.length, what);
  const differs = actual.findIndex((module, index) => module !== expected.data[index]);
  if (differs >= 0) assert.fail(`${what}: module (row ${Math.floor(differs / expected.size)}, column ${differs % expected.size}) is ${actual[differs]}, qrcode's is ${expected.data[differs]}`);
}

/** The stencil as document-seal.ts drew it from qrcode's symbol before the specialised encoder. */
function stencilFromQrcode(note: string): Uint8Array {
  const modules = qrcodeSymbol(utf8Encode(note));
  const image = sealImagePlaceholder();
  for (let row = 0; row < modules.size; row += 1) {
    for (let column = 0; column < modules.size; column += 1) {
      if (!modules.get(row, column)) continue;
      const x = column + QUIET_MODULES;
      const at = (row + QUIET_MODULES) * ROW_BYTES + (x >> 3);
      image[at] = image[at]! & ~(0x80 >> (x & 7));
    }
  }
  return image;
}

const signer = noteSignerFor(DOCUMENT_KEY_NAME, generateEd25519KeyPair().privateKeyPem, 'ed25519');

/** Signed notes as the centre writes them, and notes of the same size with Japanese in the body. */
function realNotes(): string[] {
  const statements = ['juminhyo', 'inkan-toroku', 'koseki-tohon', 'zeimu-shomei'].map((certificateType, index) =>
    signNote(
      formatDocumentStatement({ serial: `REQ-${1000 + index}-${index + 1}`, municipalityCode: '131016', certificateType, issuedOn: '2026-11-27', contentSha256: `${index}`.repeat(64) }),
      signer,
    ),
  );
  const japanese = [
    '住民票の写し\n東京都千代田区千代田1番1号\n髙橋 𠮷郎 﨑山 花子\n令和8年11月27日\n',
    '印鑑登録証明書\n大阪府大阪市北区中之島1丁目3番20号\n渡邉 一郎\n',
    'cvs-issue certificate v1\nserial REQ-7-1\n備考 コンビニ交付で発行された証明書です。',
  ].map((body) => signNote(body.endsWith('\n') ? body : `${body}\n`, signer));
  return [...statements, ...japanese];
}

describe('the seal QR code, specialised to version 13-M mask 0', () => {
  it('draws the same modules as qrcode at every length where a block boundary or the padding falls', () => {
    for (const length of [0, 1, 2, 36, 37, 38, 74, 75, 296, 297, 330, 331]) {
      assertSameSymbol(new Prng(length).bytes(length), `${length} bytes`);
    }
  });

  it('draws the same modules as qrcode for every length up to capacity, all bytes 0x00 and all 0xff', () => {
    for (let length = 0; length <= STATEMENT_BYTES; length += 1) {
      assertSameSymbol(new Uint8Array(length), `${length} zero bytes`);
      assertSameSymbol(new Uint8Array(length).fill(0xff), `${length} 0xff bytes`);
    }
  });

  it('draws the same modules as qrcode for 500 seeded random byte strings of 0 to 331 bytes', () => {
    const random = new Prng(20261127);
    for (let sample = 0; sample < 500; sample += 1) {
      const length = random.int(0, STATEMENT_BYTES);
      assertSameSymbol(random.bytes(length), `sample ${sample} (${length} bytes)`);
    }
  });

  it('draws the same modules as qrcode for signed notes, English and Japanese, and the same stencil image', () => {
    for (const note of realNotes()) {
      const bytes = utf8Encode(note);
      assert.ok(bytes.length <= STATEMENT_BYTES, `a test note is ${bytes.length} bytes`);
      assertSameSymbol(bytes, note.split('\n')[0]!);
      assert.deepEqual(qrImageOf(note), stencilFromQrcode(note));
    }
  });

  it('refuses 332 bytes, as qrcode does', () => {
    const tooLong = new Uint8Array(STATEMENT_BYTES + 1);
    assert.throws(() => qrcodeSymbol(tooLong), /cannot contain this amount of data/);
    assert.throws(() => sealQrModules(tooLong), { code: 'document.qr_too_long' });
  });
});
