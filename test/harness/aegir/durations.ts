// The task durations of a warm-pool benchmark, from the figures of real Aegir 3 servers: an Open
// Atrium 2 install takes about 2 minutes with the fast installer and 15-20 with the classic one,
// a clone of a complex site 1-5 minutes, a verify under 30 s. A migrate, like a clone, copies the
// site (backup, deploy, updatedb, verify), so its time grows with the site: a fixed part (the
// verify) and the copy of the database and files, which for a freshly installed spare (the
// smallest Open Atrium 2 site there is) is an estimate, not a measured figure.
import { BENCHMARK_LATENCY, type LatencyOptions } from "./latency.ts";

export type Installer = "fast" | "classic";

export const INSTALL_MS: Record<Installer, number> = { fast: 120_000, classic: 15 * 60_000 };
/** A clone or migrate of a complex site in use. */
export const CLONE_RANGE_MS = [60_000, 300_000] as const;
/** The verify every migrate and clone ends with. */
export const VERIFY_MS = 25_000;
/** UNCONFIRMED estimate (no recording or timing of one): backup, deploy and updatedb of a freshly installed OA2 site. */
export const FRESH_SITE_COPY_MS = 20_000;
/** A migrate or clone of a fresh spare: the verify and the copy of a fresh site, about 45 s. UNCONFIRMED. */
export const FRESH_SPARE_MIGRATE_MS = VERIFY_MS + FRESH_SITE_COPY_MS;

/** A forced verify of a platform (provision-clone asks for one of the target platform). UNCONFIRMED: taken as a site verify's. */
export const PLATFORM_VERIFY_MS = VERIFY_MS;
/** provision-clone's sleep(5) between its two call-back verifies. */
export const CLONE_CALLBACK_PAUSE_MS = 5_000;
/**
 * A clone of a fresh spare: the copy (as a fresh spare's migrate), then provision-clone's inline
 * forced verifies of the platform and of the source, 5 s apart: about 100 s. UNCONFIRMED.
 */
export const FRESH_SPARE_CLONE_MS = FRESH_SPARE_MIGRATE_MS + PLATFORM_VERIFY_MS + CLONE_CALLBACK_PAUSE_MS + VERIFY_MS;

/** Benchmark latency with these durations; installs as the installer takes them, a fresh spare's migrate (and the clone's copy) overridable. */
export function poolLatency(installer: Installer = "fast", timeFactor = 1, freshSpareMigrateMs = FRESH_SPARE_MIGRATE_MS): LatencyOptions {
  return {
    ...BENCHMARK_LATENCY,
    tasks: { ...BENCHMARK_LATENCY.tasks, install: INSTALL_MS[installer], verify: VERIFY_MS },
    taskRanges: { clone: CLONE_RANGE_MS, migrate: CLONE_RANGE_MS },
    freshSiteTasks: { clone: freshSpareMigrateMs + FRESH_SPARE_CLONE_MS - FRESH_SPARE_MIGRATE_MS, migrate: freshSpareMigrateMs },
    timeFactor,
  };
}
