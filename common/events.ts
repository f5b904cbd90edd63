// Kubernetes Events as reconcilers emit them; controller/kube/events.ts writes them to the API.
export interface Regarding {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface EventRecorder {
  /** Fire and forget: an event that cannot be written never fails a reconcile. */
  record(regarding: Regarding, type: "Normal" | "Warning", reason: string, action: string, note: string): void;
}

/** The object an event is about. */
export function regardingOf(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string } }): Regarding {
  const { name, namespace, uid } = object.metadata;
  return { apiVersion: object.apiVersion, kind: object.kind, name, ...(namespace ? { namespace } : {}), ...(uid ? { uid } : {}) };
}
