// Errors from an Aegir server, classified so a reconciler knows whether to retry and what a
// status condition should say.

/** Retry with backoff (the server may heal) or stop until the spec or the platform changes. */
export type ErrorKind = "transient" | "permanent";

export const REASONS = {
  ConnectionLost: "transient",
  ConnectionRefused: "transient",
  CommandTimeout: "transient",
  ServerOverloaded: "transient",
  TaskPending: "transient",
  DrushFailed: "transient",
  OutputNotUnderstood: "transient",
  HostKeyMismatch: "permanent",
  AuthenticationFailed: "permanent",
  UnknownSite: "permanent",
  UnknownPlatform: "permanent",
  ProfileNotOnPlatform: "permanent",
  ModuleNotOnPlatform: "permanent",
  ThemeNotOnPlatform: "permanent",
  RoleNotOnSite: "permanent",
  SiteExists: "permanent",
  DomainTaken: "permanent",
  NotAHostmaster: "permanent",
  UserExists: "permanent",
  AccountCreatedMeanwhile: "transient",
  SiteCreatedMeanwhile: "transient",
  UnknownUser: "permanent",
  UnknownBlueprint: "permanent",
  UnknownSpace: "permanent",
  OwnerIsSiteAdmin: "permanent",
  SpaceFull: "permanent",
  UnknownBackup: "permanent",
  /** A node id that is not a task of the hostmaster. */
  UnknownTask: "permanent",
  /** The hostmaster lacks the task type (a hosting feature such as hosting_clone is off). */
  TaskUnavailable: "permanent",
  /** A task asked to run in the background is not the pool's (a site outside its placeholder zone, or a customer's task type). */
  NotPoolWork: "permanent",
} as const satisfies Record<string, ErrorKind>;

/** CamelCase, usable as a condition reason as it is. */
export type Reason = keyof typeof REASONS;

export class AegirError extends Error {
  readonly reason: Reason;
  readonly kind: ErrorKind;
  /** The drush subcommand that failed, e.g. `pm-disable`; never carries argument values. */
  readonly command: string | undefined;

  constructor(reason: Reason, message: string, options: { command?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "AegirError";
    this.reason = reason;
    this.kind = REASONS[reason];
    this.command = options.command;
  }

  get transient(): boolean {
    return this.kind === "transient";
  }
}
