import { describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { buildStatus } from "../../reconcilers/hostedsite/status.ts";
import { hostedSite } from "./fixtures.ts";

const now = new Date("2027-03-01T09:00:00Z");
const installed = { type: "Installed", status: "True" as const, reason: "Installed", message: "", observedGeneration: 1, lastTransitionTime: "2027-03-01T08:00:00Z" };
const site = () => ({ ...hostedSite({}, { generation: 2 }), status: { server: "aegir-1", observedGeneration: 1, conditions: [installed] } });

describe("buildStatus", () => {
  it("states a problem on Installed, Synced and Ready, keeping the rest of the status", () => {
    const status = buildStatus(site(), { kind: "problem", reason: "UnknownServer", message: "AegirServer aegir-1 does not exist" }, now);
    expect(status.server).toBe("aegir-1");
    expect(status.observedGeneration).toBe(2);
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}@${c.lastTransitionTime}`)).toEqual([
      "Installed=False/UnknownServer@2027-03-01T09:00:00Z",
      "Synced=False/ReconcileError@2027-03-01T09:00:00Z",
      "Ready=False/UnknownServer@2027-03-01T09:00:00Z",
    ]);
  });

  it("marks only Synced when the server cannot be read, and claims no newer generation", () => {
    const status = buildStatus(site(), { kind: "unreachable", server: "aegir-1", error: new AegirError("ConnectionRefused", "connect ECONNREFUSED") }, now);
    expect(status.observedGeneration).toBe(1);
    expect(status.conditions?.find((c) => c.type === "Installed")).toEqual(installed);
    expect(status.conditions?.find((c) => c.type === "Synced")).toMatchObject({ status: "False", reason: "ConnectionRefused", message: "Cannot read Aegir server aegir-1: connect ECONNREFUSED" });
  });
});
