// Proves which processes of the binary execute themselves again with mimalloc's purge delay off
// (drivers/allocator-policy.ts): `center serve` and `relay serve` only, once, with every argument
// and variable they had; never when the operator set the option, outside the compiled binary, or
// where execve is missing or fails. test/e2e/binary.test.ts checks the real servers' environment.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PURGE_DELAY_VARIABLE, startsServer, useServingAllocator } from '../../drivers/allocator-policy.ts';

function fakeProcess(env: Record<string, string | undefined>, fails = false) {
  const calls: { file: string; args: string[]; env: Record<string, string | undefined> }[] = [];
  return {
    calls,
    running: {
      execPath: '/opt/cvs-issue/bin/cvs-issue',
      env,
      execve(file: string, args: string[], environment: Record<string, string | undefined>): never {
        calls.push({ file, args, env: environment });
        if (fails) throw Object.assign(new Error('execve failed'), { code: 'EACCES' });
        // A real execve does not return; this one records the call and returns to the caller.
        return undefined as never;
      },
    },
  };
}

describe('the servers’ allocator setting', () => {
  it('counts `center serve` and `relay serve` as servers, wherever their options stand', () => {
    assert.equal(startsServer(['center', 'serve', '--dir', 'site']), true);
    assert.equal(startsServer(['relay', 'serve', '--dir', 'site', '--operator', 'OP02']), true);
    assert.equal(startsServer(['--no-color', 'relay', 'serve']), true);
    for (const argv of [[], ['center'], ['center', 'ca', 'issue'], ['kiosk', 'run'], ['serve'], ['audit-log', 'verify'], ['demo'], ['relay', 'alerts', 'serve']]) {
      assert.equal(startsServer(argv), false, argv.join(' '));
    }
  });

  it('executes a server again with the option set, keeping its arguments and environment', () => {
    const { calls, running } = fakeProcess({ PATH: '/usr/bin', CVS_ISSUE_TIME: '2026-12-02T10:00:00+09:00' });
    useServingAllocator(['center', 'serve', '--dir', 'site', '--json'], running, true);
    assert.deepEqual(calls, [
      {
        file: '/opt/cvs-issue/bin/cvs-issue',
        args: ['/opt/cvs-issue/bin/cvs-issue', 'center', 'serve', '--dir', 'site', '--json'],
        env: { PATH: '/usr/bin', CVS_ISSUE_TIME: '2026-12-02T10:00:00+09:00', [PURGE_DELAY_VARIABLE]: '-1' },
      },
    ]);
  });

  it('leaves alone an operator’s own setting, other commands, runs outside the binary, and a runtime without execve', () => {
    for (const value of ['100', '0', '']) {
      const { calls, running } = fakeProcess({ [PURGE_DELAY_VARIABLE]: value });
      useServingAllocator(['relay', 'serve'], running, true);
      assert.equal(calls.length, 0, `set to "${value}"`);
    }
    const other = fakeProcess({});
    useServingAllocator(['reconcile', '--month', '2026-11'], other.running, true);
    useServingAllocator(['center', 'serve'], other.running, false);
    assert.equal(other.calls.length, 0);
    const { execve: _execve, ...withoutExecve } = fakeProcess({}).running;
    assert.doesNotThrow(() => useServingAllocator(['center', 'serve'], withoutExecve, true));
  });

  it('runs the server as it is when execve fails', () => {
    const { calls, running } = fakeProcess({}, true);
    assert.doesNotThrow(() => useServingAllocator(['center', 'serve'], running, true));
    assert.equal(calls.length, 1);
  });
});
