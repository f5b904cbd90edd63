// metav1.MicroTime, as Leases and events.k8s.io Events carry it: RFC 3339 with microseconds.
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000Z");
}
