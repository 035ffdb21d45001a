// Proves municipality codes are accepted only with the right check digit (real codes and the 10/11 edge cases) and that clock times parse only when they name a time of day.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatClockMinutes, isValidMunicipalityCode, municipalityCheckDigit, parseClockMinutes } from '../../core/municipality.ts';

const WEIGHTS = [6, 5, 4, 3, 2];

function weightedSumMod11(body: string): number {
  return [...body].reduce((sum, digit, index) => sum + Number(digit) * WEIGHTS[index]!, 0) % 11;
}

/** The first 5-digit body after 00000 whose weighted sum leaves this remainder. */
function bodyWithRemainder(remainder: number): string {
  for (let value = 1; value < 100_000; value += 1) {
    const body = String(value).padStart(5, '0');
    if (weightedSumMod11(body) === remainder) return body;
  }
  throw new Error(`no body leaves remainder ${remainder}`);
}

describe('municipality codes', () => {
  const realCodes: [string, string][] = [
    ['131016', '千代田区'],
    ['141003', '横浜市'],
    ['011002', '札幌市'],
    ['372013', '高松市'],
    ['012025', '函館市'],
    ['271004', '大阪市'],
  ];

  for (const [code, name] of realCodes) {
    it(`accepts ${code} ${name} and computes its check digit`, () => {
      assert.equal(municipalityCheckDigit(code.slice(0, 5)), Number(code[5]));
      assert.equal(isValidMunicipalityCode(code), true);
    });
  }

  it('rejects every other check digit on a real code', () => {
    const rejected = '0123456789'.split('').filter((digit) => !isValidMunicipalityCode(`13101${digit}`));
    assert.deepEqual(rejected, ['0', '1', '2', '3', '4', '5', '7', '8', '9']);
  });

  it('uses 1 when the weighted sum is a multiple of 11 (11 − 0 = 11)', () => {
    const body = bodyWithRemainder(0);
    assert.equal(municipalityCheckDigit(body), 1);
    assert.equal(isValidMunicipalityCode(`${body}1`), true);
    assert.equal(isValidMunicipalityCode(`${body}0`), false);
  });

  it('uses 0 when the weighted sum leaves 1 (11 − 1 = 10)', () => {
    const body = bodyWithRemainder(1);
    assert.equal(municipalityCheckDigit(body), 0);
    assert.equal(isValidMunicipalityCode(`${body}0`), true);
    assert.equal(isValidMunicipalityCode(`${body}1`), false);
  });

  it('checks the edge cases on concrete bodies too', () => {
    // 00000 sums to 0; 00006 sums to 6 × 2 = 12, which leaves 1.
    assert.equal(municipalityCheckDigit('00000'), 1);
    assert.equal(municipalityCheckDigit('00006'), 0);
  });

  for (const code of ['13101', '1310166', '13101a', 'a31016', '', ' 131016', '131016\n', '１３１０１６']) {
    it(`rejects the malformed code ${JSON.stringify(code)}`, () => {
      assert.equal(isValidMunicipalityCode(code), false);
    });
  }
});

describe('parseClockMinutes', () => {
  const accepted: [string, number][] = [
    ['00:00', 0],
    ['06:30', 390],
    ['09:00', 540],
    ['17:00', 1020],
    ['23:59', 1439],
    ['24:00', 1440],
  ];
  for (const [text, minutes] of accepted) {
    it(`reads ${text} as ${minutes} minutes and writes it back`, () => {
      assert.equal(parseClockMinutes(text), minutes);
      assert.equal(formatClockMinutes(minutes), text);
    });
  }

  for (const text of ['9:00', '09:60', '24:01', '25:00', '0900', '09:00:00', ' 09:00', '', 'ab:cd']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseClockMinutes(text), undefined);
    });
  }
});
