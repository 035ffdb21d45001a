// Proves typed errors cross the wire unchanged (drivers/http/statuses.ts): every kind the server
// raises comes back as the same kind and code at the client, whatever status the kinds share, and
// an answer without a kind (another server) gets the likeliest kind for its status. A request body
// is read as strict UTF-8 JSON, its text kept beside its value (what the relay forwards).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, ERROR_KINDS } from '../../../core/errors.ts';
import type { HttpClient } from '../../../drivers/http/client.ts';
import { callJson, decodeJsonBody, errorResponse, parseJsonBody } from '../../../drivers/http/json-api.ts';
import { httpStatusFor } from '../../../drivers/http/statuses.ts';

/** A client whose peer answers with `response`. */
function answering(response: { status: number; body: string | Uint8Array }): HttpClient {
  return {
    request: async () => ({ status: response.status, headers: {}, body: new Uint8Array() }) as never,
    postJson: async <T>() => ({ status: response.status, json: JSON.parse(String(response.body)) as T }),
    close: async () => undefined,
  };
}

describe('errors over HTTP', () => {
  it('round-trips every kind and code through the status and the body', async () => {
    for (const kind of ERROR_KINDS) {
      const response = errorResponse(new AppError(kind, `test.${kind}`, 'said no'));
      assert.equal(response.status, httpStatusFor(new AppError(kind, 'x', 'y')));
      await assert.rejects(callJson(answering(response), '/v1/x', {}), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.kind, kind);
        assert.equal(error.code, kind === 'internal' ? 'internal' : `test.${kind}`);
        return true;
      });
    }
  });

  it('gives the likeliest kind for an answer that names none', async () => {
    for (const [status, kind] of [[400, 'input'], [403, 'refused'], [409, 'conflict'], [413, 'input'], [503, 'unavailable'], [502, 'internal']] as const) {
      await assert.rejects(callJson(answering({ status, body: JSON.stringify({ error: { code: 'other', message: 'no' } }) }), '/v1/x', {}), (error: unknown) => error instanceof AppError && error.kind === kind);
    }
  });
});

describe('request bodies', () => {
  it('gives the text as sent beside its value, and refuses what is not UTF-8 JSON, one request after another', () => {
    const text = '{ "kioskId": "K0001", "name": "髙橋 𠮷" }';
    assert.deepEqual(decodeJsonBody(new TextEncoder().encode(text)), { text, value: { kioskId: 'K0001', name: '髙橋 𠮷' } });
    const refused = (error: unknown) => error instanceof AppError && error.code === 'request.bad_json';
    assert.throws(() => decodeJsonBody(Uint8Array.from([0x7b, 0xff, 0x7d])), refused);
    assert.throws(() => decodeJsonBody(new TextEncoder().encode('{"a":')), refused);
    // A body cut inside a character leaves nothing behind for the next one (one decoder serves every request).
    assert.throws(() => parseJsonBody(Uint8Array.from([0x22, 0xe9, 0xab])), refused);
    assert.equal(parseJsonBody(new TextEncoder().encode('"髙"')), '髙');
  });
});
