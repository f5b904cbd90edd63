// WATCH: a chunked stream of JSON lines `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}`,
// resuming after a resourceVersion from the store's history (410 Expired when it is gone),
// with bookmarks, server-side timeouts, and selectors applied to old and new states the way
// the watch cache does (an object leaving the selection is DELETED, one entering it ADDED).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject } from "./resources.ts";
import { type ApiError, badRequest, failureStatus } from "./status.ts";
import type { EventType, Store, StoreEvent } from "./store.ts";

export type WatchEventType = EventType | "BOOKMARK" | "ERROR";

export interface WatchRequest {
  storage: string;
  namespace: string | undefined;
  /** The stored object as this client sees it (version conversion). */
  render(stored: KubeObject): KubeObject;
  matches(object: KubeObject): boolean;
  /** The object as sent in an event (a Table row, partial metadata, or itself). */
  encode(object: KubeObject): unknown;
  contentType: string;
  resourceVersion: string | null;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  /** apiVersion and kind for BOOKMARK objects. */
  bookmarkType: { apiVersion: string; kind: string };
  timeoutMs: number;
  /** How a too-old resourceVersion is reported: an ERROR event in a 200 stream (the watch cache) or a 410 response. */
  expiredAs: "event" | "status";
}

interface OpenWatch {
  response: ServerResponse;
  bookmark(): void;
  end(): void;
}

export class WatchHub {
  private readonly open = new Set<OpenWatch>();
  private readonly store: Store;
  private readonly bookmarkIntervalMs: number;

  constructor(store: Store, bookmarkIntervalMs: number) {
    this.store = store;
    this.bookmarkIntervalMs = bookmarkIntervalMs;
  }

  get size(): number {
    return this.open.size;
  }

  serve(req: IncomingMessage, res: ServerResponse, w: WatchRequest, respondError: (error: ApiError) => void): void {
    const inScope = (o: KubeObject) => w.namespace === undefined || o.metadata.namespace === w.namespace;
    const visible = (stored: KubeObject | undefined): KubeObject | undefined => {
      if (!stored || !inScope(stored)) return undefined;
      const object = w.render(stored);
      return w.matches(object) ? object : undefined;
    };

    const initial: Array<{ type: WatchEventType; object: unknown }> = [];
    let replay: StoreEvent[] = [];
    const rv = w.resourceVersion;
    if (rv === null || rv === "" || rv === "0" || w.sendInitialEvents) {
      for (const stored of this.store.list(w.storage, w.namespace)) {
        const object = visible(stored);
        if (object) initial.push({ type: "ADDED", object: w.encode(object) });
      }
    } else if (!/^\d+$/.test(rv)) {
      return respondError(badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a resourceVersion this server handed out`));
    } else {
      try {
        replay = this.store.eventsSince(Number(rv)).filter((e) => e.storage === w.storage);
      } catch (error) {
        const expired = error as ApiError;
        if (w.expiredAs === "status") return respondError(expired);
        res.writeHead(200, { "Content-Type": w.contentType, "Cache-Control": "no-cache, private" });
        res.end(`${JSON.stringify({ type: "ERROR", object: expired.toStatus() })}\n`);
        return;
      }
    }

    res.writeHead(200, { "Content-Type": w.contentType, "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    // Node holds the headers until the first body write; client-node's informer waits for them.
    res.flushHeaders();
    const send = (type: WatchEventType, object: unknown) => {
      // Changes may arrive between end() and the close event; writing then would be an error.
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const sendStoreEvent = (e: StoreEvent) => {
      if (e.storage !== w.storage) return;
      const now = e.type === "DELETED" ? undefined : visible(e.object);
      const before = visible(e.previous);
      if (now && before) send("MODIFIED", w.encode(now));
      else if (now) send("ADDED", w.encode(now));
      else if (before) send("DELETED", w.encode(w.render(e.object)));
    };
    const bookmark = (annotations?: Record<string, string>) => {
      const metadata = { resourceVersion: String(this.store.currentRevision()), ...(annotations ? { annotations } : {}) };
      send("BOOKMARK", { ...w.bookmarkType, metadata });
    };

    for (const e of initial) send(e.type, e.object);
    if (w.sendInitialEvents && w.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
    for (const e of replay) sendStoreEvent(e);
    const unsubscribe = this.store.subscribe(sendStoreEvent);

    const timers: NodeJS.Timeout[] = [setTimeout(() => watch.end(), w.timeoutMs).unref()];
    if (w.allowBookmarks) timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs).unref());
    const watch: OpenWatch = {
      response: res,
      bookmark: () => {
        if (w.allowBookmarks) bookmark();
      },
      end: () => res.end(),
    };
    this.open.add(watch);
    const cleanup = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(watch);
    };
    res.on("close", cleanup);
    req.on("close", cleanup);
  }

  /** Sends a BOOKMARK now on every open watch that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.open) w.bookmark();
  }

  /** Ends (or destroys the connections of) every open watch; returns how many there were. */
  drop(how: "end" | "destroy"): number {
    const count = this.open.size;
    for (const w of [...this.open]) {
      if (how === "end") w.end();
      else w.response.destroy();
      this.open.delete(w);
    }
    return count;
  }
}

/** A whole watch response that is one ERROR event (injected failures with asWatchEvent). */
export function errorEventLine(code: number, reason: string, message: string): string {
  return `${JSON.stringify({ type: "ERROR", object: failureStatus(code, reason, message) })}\n`;
}
