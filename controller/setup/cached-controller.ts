// The controller of a kind whose objects an informer cache holds: one worker, the object read from
// the cache by key, and a key whose object is gone reconciles to nothing (nothing is kept per key).
import type { Result } from "../../common/reconcile.ts";
import { Controller } from "../controller.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";

export interface CachedControllerOptions<T> {
  name: string;
  get: (key: string) => T | undefined;
  reconcile: (object: T) => Promise<Result>;
}

export function cachedController<T>(infra: Infrastructure, options: CachedControllerOptions<T>): Controller {
  return new Controller({
    name: options.name,
    maxConcurrentReconciles: 1,
    metrics: infra.metrics,
    log: infra.log,
    reconcile: async (key) => {
      const object = options.get(key);
      return object === undefined ? {} : options.reconcile(object);
    },
  });
}

/** The controller as the manager runs it: started once this replica leads. */
export function runnable(controller: Controller): Runnable {
  return { name: controller.name, start: () => controller.start(), stop: (graceMs) => controller.stop(graceMs) };
}
