// Proves the operators drivers/pdf/drawing-operators.ts writes are those pdfkit's own calls write,
// in the same content-stream bytes, with the same graphic states on the page and the same fill
// colour kept, for colours, rectangles and lines at whole and fractional points.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillColour, filledWith, lineOperators, rectOperator, RgbColour, setOpacity, strokeColour } from '../../../drivers/pdf/drawing-operators.ts';
import { openDocument } from '../../../drivers/pdf/pdf-document.ts';

type Pdf = PDFKit.PDFDocument;

interface Inside {
  _fillColor?: unknown;
  page: { resources: { data: { ExtGState?: Record<string, { data: unknown }> } } };
}

/** The content-stream text `draw` writes (each operator and a newline), with the page's graphic states and the fill colour kept. */
function written(pdf: Pdf, draw: () => void): { text: string; states: Record<string, unknown>; fillColour: unknown } {
  let text = '';
  const writable = pdf as unknown as { addContent(operator: string): Pdf };
  const addContent = writable.addContent;
  writable.addContent = (operator: string) => {
    text += `${operator}\n`;
    return pdf;
  };
  try {
    draw();
  } finally {
    writable.addContent = addContent;
  }
  const inside = pdf as unknown as Inside;
  const states = Object.fromEntries(Object.entries(inside.page.resources.data.ExtGState ?? {}).map(([name, state]) => [name, state.data]));
  return { text, states, fillColour: inside._fillColor };
}

const newDocument = () => openDocument({ sizePoints: [595.28, 841.89], title: '', createdAtMs: 0 });
const colours = ['#111111', '#c8161d', '#ffffff', '#000000', '#f1f4f8', '#444444', '#CFDCEA', '#0a0b0c'];
const numbers = [0, 60, 150, 178.4, 150.33333333, 1 / 3, 475.28, 12.0000004, 789.9999996, -2.5, 1e-7, 123456.7654321];

describe('drawing operators', () => {
  it('write the colours pdfkit writes, and keep the fill colour as fillColor does', async () => {
    const pdf = await newDocument();
    for (const colour of colours) {
      const rgb = new RgbColour(colour);
      assert.deepEqual(written(pdf, () => fillColour(pdf, rgb)), written(pdf, () => pdf.fillColor(colour)), `fill ${colour}`);
      assert.deepEqual(written(pdf, () => strokeColour(pdf, rgb)), written(pdf, () => pdf.strokeColor(colour)), `stroke ${colour}`);
    }
  });

  it('refuse a colour that is not #rrggbb, which pdfkit would parse otherwise', () => {
    for (const colour of ['#111', 'red', '#1111111', '111111']) assert.throws(() => new RgbColour(colour), /not a #rrggbb colour/);
  });

  it('write rectangles and lines as pdfkit formats their numbers', async () => {
    const pdf = await newDocument();
    for (const a of numbers) {
      for (const b of numbers) {
        assert.equal(written(pdf, () => pdf.addContent(rectOperator(a, b, b, a))).text, written(pdf, () => pdf.rect(a, b, b, a)).text, `rect ${a} ${b}`);
        assert.equal(written(pdf, () => pdf.addContent(lineOperators(a, b, b, a))).text, written(pdf, () => pdf.moveTo(a, b).lineTo(b, a)).text, `line ${a} ${b}`);
      }
    }
  });

  it('name the graphic states of opacities as pdfkit does, on each page and in each document', async () => {
    const draw = (pdf: Pdf, direct: boolean) => {
      const shade = new RgbColour('#f1f4f8');
      const steps: (() => void)[] = [];
      for (const [opacity, stroke] of [[0.9, false], [0.9, false], [0.88, false], [0.88, true], [0.9, true], [0.88, true], [0.9, false], [1.5, false]] as const) {
        if (direct) {
          steps.push(() => {
            if (!stroke) pdf.addContent(shade.fill);
            setOpacity(pdf, opacity, stroke);
            if (!stroke) filledWith(pdf, shade, opacity);
          });
        } else {
          steps.push(() => (stroke ? pdf.strokeOpacity(opacity) : pdf.fillColor('#f1f4f8', opacity)));
        }
      }
      return [...steps.map((step) => written(pdf, step)), written(pdf, () => pdf.addPage()), ...steps.map((step) => written(pdf, step))];
    };
    assert.deepEqual(draw(await newDocument(), true), draw(await newDocument(), false));
  });
});
