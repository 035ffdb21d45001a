// What every command takes (cli/cli's Factory): the IO, the services' clock, randomness, timers, the
// holiday calendar and the deployment. Each part is made when a command first asks for it, so a
// command pays only for what it uses, and a malformed CVS_ISSUE_TIME fails only a command that reads
// the clock (a usage error, exit 2, inside main's error handling), never `--help` or `audit-log verify`.
//
// cmd/cvs-issue.ts builds one factory for the command that runs; tests build their own with a fixed
// clock instead of setting process.env.

import type { Clock, RandomSource, Timers } from '../core/ports.ts';
import type { HolidayLookup } from '../core/service-hours.ts';
import { loadConfig, type LoadedConfig } from './config.ts';
import { isNationalHoliday, processClock, systemClock, systemRandom, systemTimers } from './deps.ts';
import type { Io } from './io.ts';

export interface Factory {
  readonly io: Io;
  /** The environment commands read (CUPS_SERVER for the kiosk's CUPS printer): the process's unless a test passes its own. */
  readonly environment: NodeJS.ProcessEnv;
  /** The services' clock: real time, or CVS_ISSUE_TIME's instant running at the real rate (cmd/deps.ts). */
  readonly clock: Clock;
  /** The clock, read once now: a long-running service fails at start, not inside its first request. */
  checkedClock(): Clock;
  /** Real time whatever CVS_ISSUE_TIME says: for certificates, whose validity TLS checks against real time. */
  readonly wallClock: Clock;
  readonly random: RandomSource;
  /** Timers that never keep the process alive on their own (witness offers, retries). */
  readonly timers: Timers;
  /** National holidays (振替休日 and 国民の休日 included), for deadlines and service hours. */
  readonly isHoliday: HolidayLookup;
  /** The deployment `init` made in this directory, read once per directory. */
  deployment(directory: string): LoadedConfig;
}

/** What a caller may set instead of the real parts (tests: a fixed clock, counted randomness). */
export interface FactoryParts {
  environment?: NodeJS.ProcessEnv;
  clock?: Clock;
  wallClock?: Clock;
  random?: RandomSource;
  timers?: Timers;
  isHoliday?: HolidayLookup;
}

export function createFactory(io: Io, parts: FactoryParts = {}): Factory {
  const clock = parts.clock ?? processClock(parts.environment ?? process.env);
  const deployments = new Map<string, LoadedConfig>();
  return {
    io,
    environment: parts.environment ?? process.env,
    clock,
    checkedClock() {
      clock.nowMs();
      return clock;
    },
    wallClock: parts.wallClock ?? systemClock,
    random: parts.random ?? systemRandom,
    timers: parts.timers ?? systemTimers,
    isHoliday: parts.isHoliday ?? isNationalHoliday,
    deployment(directory) {
      let loaded = deployments.get(directory);
      if (!loaded) {
        loaded = loadConfig(directory);
        deployments.set(directory, loaded);
      }
      return loaded;
    },
  };
}
