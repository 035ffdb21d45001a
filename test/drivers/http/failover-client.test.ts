// Proves the relay's client over several centres (drivers/http/failover-client.ts) spreads requests
// over them in turn, sends a request to the next centre when one cannot answer it (unreachable,
// connection dropped, timed out, 503), never when a centre did answer (a refusal is an answer),
// and puts a centre that failed last for a while.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../core/errors.ts';
import type { ClientResponse, HttpClient } from '../../../drivers/http/client.ts';
import { createFailoverClient, splitServerUrls } from '../../../drivers/http/failover-client.ts';

type Behaviour = 'ok' | 'down' | 'dropped' | '503' | '403' | 'too-large';

function fakeCentre(name: string, calls: string[], behaviour: () => Behaviour): HttpClient {
  const answer = async (): Promise<ClientResponse> => {
    calls.push(name);
    const now = behaviour();
    if (now === 'down') throw new AppError('unavailable', 'transport.unreachable', `cannot reach ${name} (ECONNREFUSED)`);
    if (now === 'dropped') throw new AppError('unavailable', 'transport.closed', `${name} closed the connection without an answer`);
    if (now === 'too-large') throw new AppError('unavailable', 'transport.too_large', 'too large');
    const status = now === '503' ? 503 : now === '403' ? 403 : 200;
    return { status, headers: {}, body: new TextEncoder().encode(JSON.stringify({ from: name })) } as unknown as ClientResponse;
  };
  return {
    request: answer,
    postJson: async <T>() => {
      const response = await answer();
      return { status: response.status, json: JSON.parse(new TextDecoder().decode(response.body)) as T };
    },
    close: async () => undefined,
  };
}

function world(behaviours: Record<string, () => Behaviour>) {
  const calls: string[] = [];
  const clock = { now: 0 };
  const lines: string[] = [];
  const client = createFailoverClient(
    Object.entries(behaviours).map(([name, behaviour]) => ({ url: `https://${name}:8443`, client: fakeCentre(name, calls, behaviour) })),
    { nowMs: () => clock.now, log: (line) => lines.push(line) },
  );
  return { client, calls, clock, lines };
}

const from = async (response: Promise<{ status: number; json: unknown }>) => ((await response).json as { from: string }).from;

describe('failover client', () => {
  it('spreads requests over the centres in turn', async () => {
    const { client, calls } = world({ a: () => 'ok', b: () => 'ok' });
    for (let at = 0; at < 4; at += 1) await client.postJson('/v1/x', {});
    assert.deepEqual(calls, ['a', 'b', 'a', 'b']);
  });

  it('sends a request that got no answer to the next centre, and puts the failed one last for a while', async () => {
    let aDown = true;
    const { client, calls, clock, lines } = world({ a: () => (aDown ? 'down' : 'ok'), b: () => 'ok' });
    assert.equal(await from(client.postJson('/v1/x', {})), 'b');
    assert.deepEqual(calls, ['a', 'b']);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /centre a:8443 set aside for 5 s: transport\.unreachable/);
    // While set aside, a is tried only after b, even on its turn.
    calls.length = 0;
    for (let at = 0; at < 3; at += 1) assert.equal(await from(client.postJson('/v1/x', {})), 'b');
    assert.deepEqual(calls, ['b', 'b', 'b']);
    // Back in turn once the while is over and it answers again.
    aDown = false;
    clock.now += 5_001;
    calls.length = 0;
    await client.postJson('/v1/x', {});
    await client.postJson('/v1/x', {});
    assert.deepEqual(calls.sort(), ['a', 'b']);
  });

  it('fails over a dropped connection and a 503, but not a refusal or a response too large', async () => {
    const dropped = world({ a: () => 'dropped', b: () => 'ok' });
    assert.equal(await from(dropped.client.postJson('/v1/x', {})), 'b');
    const busy = world({ a: () => '503', b: () => 'ok' });
    assert.equal(await from(busy.client.postJson('/v1/x', {})), 'b');
    const refused = world({ a: () => '403', b: () => 'ok' });
    assert.equal((await refused.client.postJson('/v1/x', {})).status, 403);
    assert.deepEqual(refused.calls, ['a']);
    const large = world({ a: () => 'too-large', b: () => 'ok' });
    await assert.rejects(large.client.postJson('/v1/x', {}), /too large/);
    assert.deepEqual(large.calls, ['a']);
  });

  it('tries each centre once, then gives the last failure: an error, or the 503 if any answered so', async () => {
    const allDown = world({ a: () => 'down', b: () => 'dropped' });
    await assert.rejects(allDown.client.request('POST', '/v1/x'), (error: unknown) => error instanceof AppError && error.code === 'transport.closed');
    assert.deepEqual(allDown.calls, ['a', 'b']);
    const oneBusy = world({ a: () => '503', b: () => 'down' });
    assert.equal((await oneBusy.client.request('POST', '/v1/x')).status, 503);
  });

  it('reads a comma-separated list of centre URLs', () => {
    assert.deepEqual(splitServerUrls('https://a:8443, https://b:8443,'), ['https://a:8443', 'https://b:8443']);
    assert.throws(() => createFailoverClient([]), /no centre URL/);
  });
});
