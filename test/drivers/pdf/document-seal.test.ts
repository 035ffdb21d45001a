// Proves a sealed certificate (drivers/pdf/document-seal.ts) checks as genuine only as the centre
// wrote it: any other hex digit anywhere in the statement, any changed byte of the file around it,
// and a statement moved onto another copy are caught, and none of them makes the check throw.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fixtureMunicipalities, fixtureResidents } from '../../../cmd/fixtures.ts';
import { DOCUMENT_KEY_NAME } from '../../../core/document-statement.ts';
import { certificateContent } from '../../../core/resident.ts';
import { renderCertificatePdf } from '../../../drivers/pdf/certificate-pdf.ts';
import { checkSealedDocument, sealCertificateCopies, sealRegions, type DocumentCheck } from '../../../drivers/pdf/document-seal.ts';
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { noteSignerFor, noteVerifierFromKey, verifierKeyForPrivateKey } from '../../../drivers/store/audit-log.ts';

describe('sealed certificates', () => {
  const key = generateEd25519KeyPair().privateKeyPem;
  const signer = noteSignerFor(DOCUMENT_KEY_NAME, key, 'ed25519');
  const verifier = noteVerifierFromKey(verifierKeyForPrivateKey(DOCUMENT_KEY_NAME, key));
  let copies: Uint8Array[] = [];

  before(async () => {
    const { resident } = fixtureResidents()[1]!;
    const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
    const content = certificateContent({ resident, type: 'juminhyo', mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId: 'REQ-SEAL', kioskId: 'K0001', copies: 2, atMs: Date.parse('2026-11-27T01:00:00Z'), issuedOnText: '令和8年11月27日' });
    copies = sealCertificateCopies(await renderCertificatePdf(content), content, signer);
  });

  /** The check's status, or "not a certificate" when it refuses the file as one. */
  const statusOf = (pdf: Uint8Array): DocumentCheck['status'] | 'not a certificate' => {
    try {
      return checkSealedDocument(pdf, verifier, 'copy.pdf').status;
    } catch (error) {
      assert.match(String(error), /not a certificate|not a PDF/);
      return 'not a certificate';
    }
  };

  it('checks as genuine as written, and sealing again gives the same bytes', async () => {
    assert.equal(statusOf(copies[0]!), 'genuine');
    assert.equal(statusOf(copies[1]!), 'genuine');
  });

  it('is altered when any hex digit of the statement is another one; unknown when it is the name or id of the signing key', () => {
    const regions = sealRegions(copies[0]!)!;
    const note = Buffer.from(Buffer.from(copies[0]!.subarray(regions.statement.start, regions.statement.end)).toString('latin1'), 'hex');
    // The signature line "— NAME BASE64(KEY ID ‖ SIGNATURE)": a changed name names another key; so does
    // a changed key id, the first 4 bytes of the base64 (its first 6 characters carry 36 bits of them).
    const nameStart = note.indexOf('\n— ') + Buffer.byteLength('\n— ');
    const keyStart = note.indexOf(' ', nameStart) + 1;
    for (let at = regions.statement.start; at < regions.statement.end; at += 1) {
      const bytes = Uint8Array.from(copies[0]!);
      bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30; // '0' ↔ '1', or any digit to '0'
      const noteByte = Math.floor((at - regions.statement.start) / 2);
      const namesAnotherKey = noteByte >= nameStart - 1 && noteByte < keyStart + 6;
      const status = statusOf(bytes);
      if (namesAnotherKey) assert.ok(status === 'unknown' || status === 'altered', `statement byte ${noteByte}: ${status}`);
      else assert.equal(status, 'altered', `statement byte ${noteByte}`);
    }
  });

  it('is never genuine when a byte of the file around the statement changes', () => {
    const pdf = copies[0]!;
    const regions = sealRegions(pdf)!;
    for (let at = 0; at < pdf.length; at += 37) {
      if (at >= regions.statement.start && at < regions.statement.end) continue;
      const bytes = Uint8Array.from(pdf);
      bytes[at] = bytes[at]! ^ 0x20;
      assert.notEqual(statusOf(bytes), 'genuine', `byte ${at}`);
    }
  });

  it("is altered when one copy's statement and QR code are put on the other copy", () => {
    const [first, second] = copies;
    const from = sealRegions(first!)!;
    const to = sealRegions(second!)!;
    const moved = Uint8Array.from(second!);
    moved.set(first!.subarray(from.statement.start, from.statement.end), to.statement.start);
    moved.set(first!.subarray(from.image.start, from.image.end), to.image.start);
    assert.equal(statusOf(moved), 'altered');
  });
});
