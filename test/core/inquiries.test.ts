// An inquiry about a certificate's content (core/inquiries.ts, C§16): it names the transaction and
// the operator's summary, and travels without the operator, which the centre takes from the relay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from '../app-error.ts';
import { inquiryBody, inquiryFrom, parseInquiry, type Inquiry } from '../../core/inquiries.ts';

const inquiry: Inquiry = { inquiryId: 'c'.repeat(32), operatorId: 'OP01', requestId: 'REQ-1', kioskId: null, summary: '住所の表記について' };
const code = outcomeOf;

describe('inquiries', () => {
  it('refuse a bad id, request, kiosk, or an empty or overlong summary', () => {
    assert.equal(code(() => inquiryFrom(inquiry)), 'accepted');
    for (const bad of [{ inquiryId: 'x' }, { requestId: 'a b' }, { kioskId: '' }, { summary: ' ' }, { summary: 'あ'.repeat(401) }]) {
      assert.equal(code(() => inquiryFrom({ ...inquiry, ...bad })), 'inquiry.invalid', JSON.stringify(bad));
    }
  });

  it('travel without the operator and are read back by the same rules', () => {
    const body = inquiryBody(inquiry);
    assert.equal('operatorId' in body, false);
    assert.deepEqual(parseInquiry(body, 'OP01'), inquiry);
    assert.equal(code(() => parseInquiry({ ...body, summary: '' }, 'OP01')), 'request.bad_field');
  });
});
