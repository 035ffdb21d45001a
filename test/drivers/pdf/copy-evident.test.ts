// Proves the hidden 「複写」 of a certificate's background (drivers/pdf/certificate-pdf.ts): drawn
// by poppler at 300 dpi, the word's strokes and the box around them have the same tone, so the
// original does not show it; through a model of a photocopier (test/copy-model.ts: 0.42 mm of
// blur, then black or white), the word comes out dark on a light box.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fixtureMunicipalities, fixtureResidents } from '../../../cmd/fixtures.ts';
import { certificateContent } from '../../../core/resident.ts';
import { copyEvidentArea, latentWordOutline, renderCertificatePdf } from '../../../drivers/pdf/certificate-pdf.ts';
import { finishDocument, openDocument } from '../../../drivers/pdf/pdf-document.ts';
import { drawnBox, meansBy, photocopied, type GreyImage } from '../../copy-model.ts';
import { popplerMissing } from '../../poppler.ts';

describe('the copy-evident background', { skip: popplerMissing }, () => {
  const area = copyEvidentArea();
  // Inside the box's edges, where only the hatching, the waves and the certificate's own text lie.
  const inner = { x: area.x + 4, y: area.y + 4, width: area.width - 8, height: area.height - 8 };
  let page: GreyImage;
  let word: GreyImage;

  before(async () => {
    const { resident } = fixtureResidents()[0]!;
    const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
    const content = certificateContent({ resident, type: 'juminhyo', mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId: 'REQ-COPY', kioskId: 'K0001', copies: 1, atMs: Date.parse('2026-11-27T01:00:00Z'), issuedOnText: '令和8年11月27日' });
    page = drawnBox((await renderCertificatePdf(content))[0]!, inner);
    // The word alone, filled black on a page of its own: which pixels are its strokes.
    const mask = await openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
    for (const operator of await latentWordOutline()) mask.addContent(operator);
    mask.addContent('0 g f');
    word = drawnBox(await finishDocument(mask), inner);
  });

  it('has the same tone in the word as around it on the original', () => {
    const { inside, outside } = meansBy(page, word);
    assert.ok(inside < 250 && outside < 250, `the box is tinted (${inside.toFixed(1)}, ${outside.toFixed(1)})`);
    assert.ok(Math.abs(inside - outside) < 5, `inside ${inside.toFixed(1)}, outside ${outside.toFixed(1)} of 255`);
  });

  it('shows the word dark on a light box through a photocopier', () => {
    const { inside, outside } = meansBy(photocopied(page, 220), word);
    assert.ok(outside - inside > 40, `inside ${inside.toFixed(1)}, outside ${outside.toFixed(1)} of 255`);
  });
});
