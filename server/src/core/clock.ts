/**
 * Clock: the one adapter for time, so services and tests agree on "now" and tests can move time without sleeping.
 */

/** Clock tells the current time. */
export interface Clock {
  /** now returns the current time. */
  now(): Date;
}

/** systemClock is the real clock. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** ManualClock is a clock that tests set and advance by hand. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date = new Date('2026-01-01T00:00:00Z')) {
    this.t = start.getTime();
  }
  /** now returns the clock's current time. */
  now(): Date {
    return new Date(this.t);
  }
  /** advance moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.t += ms;
  }
}
