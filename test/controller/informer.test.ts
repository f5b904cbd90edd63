import { describe, expect, it } from "vitest";
import { afterWatchEnd } from "../../controller/kube/informer.ts";

describe("afterWatchEnd", () => {
  it("watches again after a clean end and after client-node's own request timeout", async () => {
    expect(afterWatchEnd(undefined)).toBe("rewatch");
    expect(afterWatchEnd(null)).toBe("rewatch");
    // What client-node's watch reports when its 30 s AbortSignal.timeout fires.
    const timedOut = await new Promise<unknown>((resolve) => {
      const signal = AbortSignal.timeout(1);
      signal.addEventListener("abort", () => resolve(signal.reason));
    });
    expect(afterWatchEnd(timedOut)).toBe("rewatch");
  });

  it("lists again on 410 Gone and backs off on anything else", () => {
    expect(afterWatchEnd(Object.assign(new Error("Gone"), { statusCode: 410 }))).toBe("relist");
    expect(afterWatchEnd(Object.assign(new Error("boom"), { statusCode: 500 }))).toBe("fail");
    expect(afterWatchEnd(new TypeError("fetch failed"))).toBe("fail");
    expect(afterWatchEnd(new DOMException("The operation was aborted.", "AbortError"))).toBe("fail");
  });
});
