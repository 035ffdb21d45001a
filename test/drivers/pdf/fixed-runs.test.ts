// The fixed texts of a certificate (title, labels, the certification sentence, the date, the
// municipality and its seal) are laid out by pdfkit once per layout and then replayed at their new
// positions (drivers/pdf/pdf-recorder.ts fixedText). A replayed certificate must be the same file,
// byte for byte, as one laid out afresh: for every fixture resident (each municipality's layout,
// names with 髙 and 𠮷, rows that move the closing text down) and every copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureMunicipalities, fixtureResidents } from '../../../cmd/fixtures.ts';
import { certificateContent } from '../../../core/resident.ts';
import { typesOnRecord } from '../../certificate-document.ts';
import { renderCertificatePdf } from '../../../drivers/pdf/certificate-pdf.ts';
import { forgetFixedRuns } from '../../../drivers/pdf/pdf-recorder.ts';

function documents() {
  return fixtureResidents().flatMap(({ resident }, index) => {
    const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
    const types = typesOnRecord(resident);
    return [types[0]!, types[index % types.length]!].map((type) =>
      certificateContent({ resident, type, mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId: `REQ-${index}`, kioskId: 'K0001', copies: 2, atMs: Date.UTC(2026, 11, 1, 1), issuedOnText: '令和8年12月1日' }),
    );
  });
}

describe('fixed texts laid out once', () => {
  it('give the same files, byte for byte, replayed as laid out afresh', async () => {
    const all = documents();
    forgetFixedRuns();
    const fresh = [];
    for (const document of all) fresh.push(await renderCertificatePdf(document));
    // Again in the opposite order, every fixed text now replayed.
    const replayed = [];
    for (const document of [...all].reverse()) replayed.unshift(await renderCertificatePdf(document));
    for (let index = 0; index < all.length; index += 1) {
      assert.equal(replayed[index]!.length, 2);
      for (let copy = 0; copy < 2; copy += 1) {
        assert.ok(Buffer.from(replayed[index]![copy]!).equals(Buffer.from(fresh[index]![copy]!)), `document ${index} copy ${copy + 1}`);
      }
    }
  });
});
