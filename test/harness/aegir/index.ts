// The simulated Aegir server: see README.md beside this file.
export { AegirSimulator, type ExecOptions, type ExistingSiteSpec, type SimulatorOptions } from "./simulator.ts";
export { type Clock, systemClock } from "./clock.ts";
export { type CommandFault, type CommandMatcher, Faults, type TaskFaultOptions } from "./faults.ts";
export { BENCHMARK_LATENCY, Latency, type LatencyOptions, type LatencyPreset, UNIT_LATENCY } from "./latency.ts";
export { type ListenOptions, type SimulatorServer } from "./http-server.ts";
export { type OpenAtriumOptions, type PlatformSpec, type ProfileSpec, drupalPlatform, hostmasterPlatform, openAtriumPlatform } from "./platforms.ts";
export { ConnectionDropped, type DrushResult } from "./result.ts";
export { type CommandCounts, type CommandRecord, CommandStats } from "./stats.ts";
export { type StateView } from "./state-view.ts";
export { type DrupalSite, type DrupalUser, type SentMail } from "./drupal.ts";
export { type PlatformNode, type SiteNode, type TaskNode } from "./model.ts";
export { logLine, wordwrap } from "./drush-log.ts";
export { KNOWN_DEPENDENCIES, type ServerKnobs } from "./conformance.ts";
