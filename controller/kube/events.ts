// Events (events.k8s.io/v1) with client-side aggregation: a repeat of the same event on the
// same object within 10 minutes updates the event's series instead of creating a new one, and
// a per-object token bucket (burst 25, one per 5 minutes) stops floods, like client-go's recorder.
import { randomBytes } from "node:crypto";
import type { EventRecorder, Regarding } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { KubeRest } from "../../common/kube/rest.ts";
import { microTime } from "./time.ts";

export interface EventRecorderOptions {
  rest: KubeRest;
  controller: string;
  instance: string;
  log: Logger;
  now?: () => number;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  first: number;
}

const AGGREGATION_WINDOW_MS = 600_000;
const BURST = 25;
const REFILL_MS = 300_000;
const MIN_SWEEP_AT = 1024;

export class KubeEventRecorder implements EventRecorder {
  private readonly o: EventRecorderOptions;
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Size at which full buckets are swept out (doubles with what remains, so sweeps stay amortised O(1)). */
  private sweepAt = MIN_SWEEP_AT;

  constructor(options: EventRecorderOptions) {
    this.o = options;
  }

  /** An event that cannot be written is logged. */
  record(regarding: Regarding, type: "Normal" | "Warning", reason: string, action: string, note: string): void {
    void this.write(regarding, type, reason, action, note).catch((error: unknown) =>
      this.o.log.warn({ reason, object: regarding.name, err: String(error) }, "could not record event"),
    );
  }

  private async write(regarding: Regarding, type: string, reason: string, action: string, note: string): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    const objectKey = `${regarding.namespace ?? ""}/${regarding.name}/${regarding.uid ?? ""}`;
    if (!this.take(objectKey, now)) return;
    const namespace = regarding.namespace ?? "default";
    const key = `${objectKey}|${type}|${reason}|${action}|${note}`;
    const seen = this.series.get(key);
    const eventTime = microTime(now);
    if (seen !== undefined && now - seen.first < AGGREGATION_WINDOW_MS) {
      seen.count++;
      await this.o.rest.request("PATCH", `/apis/events.k8s.io/v1/namespaces/${seen.namespace}/events/${seen.name}`, {
        body: { series: { count: seen.count, lastObservedTime: eventTime } },
        contentType: "application/merge-patch+json",
      });
      return;
    }
    const name = `${regarding.name}.${randomBytes(8).toString("hex")}`;
    await this.o.rest.request("POST", `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
      body: {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace },
        eventTime,
        reportingController: this.o.controller,
        reportingInstance: `${this.o.controller}-${this.o.instance}`.slice(0, 128),
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding,
      },
    });
    this.series.set(key, { name, namespace, count: 1, first: now });
    if (this.series.size > 4096) this.series.delete(this.series.keys().next().value as string);
  }

  private take(objectKey: string, now: number): boolean {
    if (this.buckets.size >= this.sweepAt) this.sweep(now);
    const bucket = this.buckets.get(objectKey) ?? { tokens: BURST, at: now };
    bucket.tokens = Math.min(BURST, bucket.tokens + (now - bucket.at) / REFILL_MS);
    bucket.at = now;
    this.buckets.set(objectKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** A bucket that has refilled is the same as none: dropping those keeps one entry per recently evented object, not one per object ever. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) / REFILL_MS >= BURST) this.buckets.delete(key);
    this.sweepAt = Math.max(MIN_SWEEP_AT, 2 * this.buckets.size);
  }
}
