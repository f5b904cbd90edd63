import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from "../../controller/rate-limiter.ts";
import { WorkQueue } from "../../controller/workqueue.ts";

const queue = () => new WorkQueue({ rateLimiter: new ItemExponentialFailureRateLimiter(1000, 8000) });

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("is fair and collapses adds of a key not yet processed", async () => {
    const q = queue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands one key to two workers; a re-add while processing runs it again afterwards", async () => {
    const q = queue();
    q.add("a");
    const key = await q.get();
    q.add("a");
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(key!);
    await Promise.resolve();
    expect(second).toBe("a");
  });

  it("wakes a waiting worker on add", async () => {
    const q = queue();
    const next = q.get();
    q.add("x");
    expect(await next).toBe("x");
  });

  it("addAfter keeps the earliest time", async () => {
    const q = queue();
    q.addAfter("a", 10_000);
    q.addAfter("a", 2_000);
    q.addAfter("a", 5_000);
    vi.advanceTimersByTime(1_999);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.len()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("backs off per key exponentially up to the cap, and forget resets it", () => {
    const q = queue();
    const delays: number[] = [];
    const limiter = new ItemExponentialFailureRateLimiter(1000, 8000);
    for (let i = 0; i < 6; i++) delays.push(limiter.when("k"));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    limiter.forget("k");
    expect(limiter.when("k")).toBe(1000);
    q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(1);
    q.forget("a");
    expect(q.numRequeues("a")).toBe(0);
  });

  it("shutDown stops handing out work and wakes waiting workers with undefined", async () => {
    const q = queue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("a");
    expect(await q.get()).toBeUndefined();
  });

  it("shutDownWithDrain waits for keys in flight", async () => {
    const q = queue();
    q.add("a");
    const key = await q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(key!);
    await drain;
    expect(drained).toBe(true);
  });
});

describe("rate limiters", () => {
  it("bucket allows a burst, then spaces attempts at the rate", () => {
    let now = 0;
    const bucket = new BucketRateLimiter(10, 3, () => now);
    expect([bucket.when(), bucket.when(), bucket.when()]).toEqual([0, 0, 0]);
    expect(bucket.when()).toBe(100);
    expect(bucket.when()).toBe(200);
    now = 1_000;
    expect(bucket.when()).toBe(0);
  });

  it("max-of takes the longest wait", () => {
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(1000, 300_000), new BucketRateLimiter(10, 1, () => 0));
    expect(limiter.when("a")).toBe(1000);
    expect(limiter.when("b")).toBe(1000);
    expect(limiter.numRequeues("a")).toBe(1);
  });

  it("the default starts at 1 s and caps at 5 min per key", () => {
    const limiter = defaultControllerRateLimiter(() => 0);
    const delays = Array.from({ length: 12 }, () => limiter.when("k"));
    expect(delays[0]).toBe(1000);
    expect(Math.max(...delays)).toBe(300_000);
  });
});
