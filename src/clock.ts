// Time as a dependency, so tests can move it and expiry can be checked at its exact boundary.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export const toTimestamp = (date: Date): string => date.toISOString();
