// Proves a copy's serial names its request and copy, is read back from the last "-" (request ids may hold "-" themselves), and nothing else reads as a serial.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateSerial, certificateSerials, parseCertificateSerial } from '../../core/certificate-serial.ts';

describe('certificate serials', () => {
  it('are the request id and the copy number, one per copy in copy order', () => {
    assert.equal(certificateSerial('1d24f35df2de688200c3bcbabccd0185', 2), '1d24f35df2de688200c3bcbabccd0185-2');
    assert.deepEqual(certificateSerials('req-1', 3), ['req-1-1', 'req-1-2', 'req-1-3']);
  });

  it('read back as the request and copy they were made from', () => {
    for (const [requestId, copy] of [['1d24f35df2de688200c3bcbabccd0185', 1], ['req-1', 10], ['REQ-20261127-000123', 99]] as const) {
      assert.deepEqual(parseCertificateSerial(certificateSerial(requestId, copy)), { requestId, copy });
    }
  });

  it('refuse what no copy carries: no copy number, copy 0 or over 99, a leading zero, a request id outside the wire grammar', () => {
    for (const text of ['req', 'req-', '-1', 'req-0', 'req-100', 'req-01', 'req 1-1', 'a/b-1', `${'x'.repeat(65)}-1`, '']) {
      assert.equal(parseCertificateSerial(text), undefined, text);
    }
  });
});
