// AegirServer (cluster-scoped): an Aegir hostmaster reachable over SSH, and what it can host.
import { z } from "zod";
import { conditionList } from "./conditions.ts";
import { DRUPAL_ROLE_PATTERN, dns1123Label, dns1123Subdomain, keyedList, machineName, rfc3339, uniqueList } from "./primitives.ts";

/** DNS host name (one or more labels) or IPv4 address; IPv6 in its plain colon form. */
export const HOST_PATTERN =
  "^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|[0-9a-f:]*:[0-9a-f:.]+)$";
/** OpenSSH's host key fingerprint format, as printed by `ssh-keygen -lf`: SHA256 + unpadded base64. */
export const HOST_KEY_PATTERN = "^SHA256:[A-Za-z0-9+/]{43}$";
export const UNIX_USER_PATTERN = "^[a-z_][a-z0-9_-]*$";
export const DRUSH_ALIAS_PATTERN = "^@[a-z0-9][a-z0-9._-]*$";
export const COMMAND_PATH_PATTERN = "^(/[A-Za-z0-9._-]+)+$|^[A-Za-z0-9._-]+$";

export const SecretKeyRef = z
  .strictObject({
    name: dns1123Subdomain().meta({ description: "Secret name" }),
    namespace: dns1123Label().meta({ description: "Secret namespace" }),
    key: z
      .string()
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, { error: "must be a Secret data key (letters, digits, '-', '_', '.')" })
      .default("ssh-privatekey")
      .meta({ description: "Key in the Secret's data; kubernetes.io/ssh-auth uses ssh-privatekey" }),
  })
  .meta({ description: "A key of a Kubernetes Secret" });

export const Platform = z
  .strictObject({
    name: machineName().meta({ description: "Aegir platform context name without '@', e.g. platform_openatrium2652" }),
    profile: machineName().meta({ description: "Install profile this platform serves" }),
    ownerRole: z
      .string()
      .max(64)
      .regex(new RegExp(DRUPAL_ROLE_PATTERN), { error: "must be a Drupal role name of lowercase words" })
      .default("manager")
      .meta({ description: "Role given to the site owner's account" }),
  })
  .meta({ description: "A platform of this server and the profile it serves" });

export const AegirServerSpec = z
  .strictObject({
    host: z
      .string()
      .max(253)
      .regex(new RegExp(HOST_PATTERN), { error: "must be a lowercase host name or an IP address" })
      .meta({ description: "SSH host" }),
    port: z.int({ error: "must be a whole number" }).min(1).max(65535).default(22),
    user: z
      .string()
      .max(32)
      .regex(new RegExp(UNIX_USER_PATTERN), { error: "must be a Unix user name" })
      .refine((u) => u !== "root", { error: "must not be root: provision refuses to run as root" })
      .default("aegir")
      .meta({
        description: "SSH user: the aegir user (never root)",
        "x-kubernetes-validations": [{ rule: "self != 'root'", message: "must not be root: provision refuses to run as root" }],
      }),
    hostKeySHA256: z
      .string()
      .max(50)
      .regex(new RegExp(HOST_KEY_PATTERN), { error: "must be an OpenSSH SHA256 fingerprint like SHA256:<43 base64 characters>" })
      .meta({ description: "Pinned host key fingerprint (ssh-keygen -lf); connections to any other key are refused" }),
    privateKeySecretRef: SecretKeyRef,
    hostmasterAlias: z
      .string()
      .max(253)
      .regex(new RegExp(DRUSH_ALIAS_PATTERN), { error: "must be a drush alias like @hostmaster" })
      .default("@hostmaster"),
    drushPath: z
      .string()
      .max(1024)
      .regex(new RegExp(COMMAND_PATH_PATTERN), { error: "must be a command name or an absolute path" })
      .default("drush")
      .meta({ description: "drush executable on the server" }),
    capacity: z
      .strictObject({
        maxSites: z.int({ error: "must be a whole number" }).min(1).max(100_000).meta({ description: "Sites this server may host" }),
        maxConcurrentOperations: z
          .int({ error: "must be a whole number" })
          .min(1)
          .max(32)
          .default(2)
          .meta({ description: "drush commands the controller runs on this server at once" }),
      })
      .meta({ description: "Placement and concurrency limits" }),
    commandTimeouts: z
      .strictObject({
        readSeconds: z.int({ error: "must be a whole number" }).min(1).max(3_600).default(60).meta({ description: "Longest a read (status, site state) may take" }),
        writeSeconds: z
          .int({ error: "must be a whole number" })
          .min(1)
          .max(7_200)
          .default(300)
          .meta({ description: "Longest a change (pm-enable, user and task commands) may take" }),
      })
      .prefault({})
      .meta({ description: "Seconds before a drush command is given up on (TERM, then KILL); a hung command blocks one operation slot until then" }),
    platforms: keyedList(Platform, "name", 64).min(1, { error: "must list at least one platform" }),
    supportTracker: z
      .strictObject({
        site: z.string().max(253).regex(new RegExp(DRUSH_ALIAS_PATTERN), { error: "must be a drush alias like @support.example.com" }),
        tierRoles: z
          .strictObject({
            Basic: z.string().max(64).regex(new RegExp(DRUPAL_ROLE_PATTERN)),
            Standard: z.string().max(64).regex(new RegExp(DRUPAL_ROLE_PATTERN)),
            Premium: z.string().max(64).regex(new RegExp(DRUPAL_ROLE_PATTERN)),
          })
          .meta({ description: "Role on the tracker for each support tier" }),
      })
      .optional()
      .meta({ description: "The provider's support-tracker site hosted on this server" }),
  })
  .meta({ description: "An Aegir server reached over SSH" });

export const AegirServerStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    platforms: z
      .array(
        z.strictObject({
          name: machineName(),
          profiles: uniqueList(machineName(), 64),
        }),
      )
      .max(64)
      .optional()
      .meta({ description: "Platforms and profiles discovered on the server" }),
    sites: z
      .strictObject({
        total: z.int().min(0),
        enabled: z.int().min(0),
        disabled: z.int().min(0),
      })
      .optional(),
    pool: z
      .strictObject({
        ready: z.int().min(0),
        target: z.int().min(0),
        spares: z.string().regex(/^[0-9]{1,4}\/[0-9]{1,4}$/).meta({ description: "ready/target, for kubectl get" }),
      })
      .optional()
      .meta({ description: "Spare sites ready and targeted, summed over the server's SitePools (written by the SitePool controller)" }),
    lastProbeTime: rfc3339()
      .optional()
      .meta({ description: "When a probe result was last recorded: on every change, else at least every 5 minutes" }),
    conditions: conditionList(16).optional(),
  })
  .meta({ description: "What the controller last observed on the server" });

export type AegirServerSpec = z.infer<typeof AegirServerSpec>;
export type AegirServerStatus = z.infer<typeof AegirServerStatus>;
export type Platform = z.infer<typeof Platform>;
