// Preload (NODE_OPTIONS=--import=./test/support/skew-clock.mjs) that sets a process's wall clock
// GATEHOUSE_TEST_CLOCK_SKEW_MS off from the machine's: `new Date()` and `Date.now()` are skewed,
// dates built from a given time are not, and the monotonic clock (performance.now()) is untouched.
// A subclass of Date behind a Proxy: a plain subclass cannot be called without `new` (`Date()`
// returns a string), and `instanceof Date` must still hold for dates Node's internals create.
const skewMs = Number(process.env.GATEHOUSE_TEST_CLOCK_SKEW_MS ?? 0);
if (!Number.isFinite(skewMs)) throw new Error(`GATEHOUSE_TEST_CLOCK_SKEW_MS is not a number: ${process.env.GATEHOUSE_TEST_CLOCK_SKEW_MS}`);

const RealDate = globalThis.Date;
const skewedNow = () => RealDate.now() + skewMs;

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(skewedNow());
    else super(...args);
  }

  static now() {
    return skewedNow();
  }
}

globalThis.Date = new Proxy(SkewedDate, {
  apply: () => new RealDate(skewedNow()).toString(),
  get: (target, property, receiver) => (property === Symbol.hasInstance ? (value) => value instanceof RealDate : Reflect.get(target, property, receiver)),
});
