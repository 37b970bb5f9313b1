// node:test runs t.after hooks first-registered-first, and stops at the first one that throws.
// Teardown wants the opposite: close the receiver, then the S3 store it writes to, then remove
// the directory they both used. `cleanup(t)` gives one LIFO stack per test; every step runs even
// when an earlier one fails, and the first failure is rethrown after all of them.
interface HasAfter {
  after(fn: () => Promise<void> | void): void;
}

export type Defer = (fn: () => Promise<unknown> | unknown) => void;

export function cleanup(t: HasAfter): Defer {
  const steps: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    let first: unknown;
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  });
  return (fn) => { steps.push(fn); };
}
