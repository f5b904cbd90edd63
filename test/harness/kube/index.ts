// A fake Kubernetes API server for tests, faithful enough for kubectl and
// @kubernetes/client-node. See README.md in this folder.
export { type FakeApiServer, type FakeApiServerOptions, startFakeApiServer } from "./server.ts";
export type { ApplyAs, ChangeListener, ListOptions, ObjectApi, ObjectRef, WriteAs } from "./objects.ts";
export { Kubectl, type KubectlResult, type RunningKubectl, kubectlUnavailableReason } from "./kubectl.ts";
export type { Faults, InjectedFailure, RequestLog, RequestMatcher, RequestRecord, UnavailableMode } from "./faults.ts";
export type { KubeObject, ManagedFieldsEntry, ObjectMetadata, OwnerReference } from "./resources.ts";
export { ApiError, type Status, type StatusCause, type StatusDetails } from "./status.ts";
export type { EventType } from "./store.ts";
