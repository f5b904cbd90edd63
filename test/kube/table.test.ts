// Printer-column evaluation: the JSONPath subset CRDs use and kubectl's relative ages.
import { describe, expect, it } from "vitest";
import { evaluateJsonPath, humanDuration } from "../harness/kube/table.ts";

describe("printer columns", () => {
  const site = {
    spec: { domain: "acme.example.com", support: { tier: "Basic" }, features: ["a", "b"] },
    status: {
      conditions: [
        { type: "Synced", status: "False", reason: "Error" },
        { type: "Ready", status: "True", reason: "Installed" },
      ],
    },
  };

  it("evaluates field paths, indexes, wildcards and equality filters", () => {
    expect(evaluateJsonPath(site, ".spec.support.tier")).toEqual(["Basic"]);
    expect(evaluateJsonPath(site, "{.spec.features[1]}")).toEqual(["b"]);
    expect(evaluateJsonPath(site, ".spec.features[*]")).toEqual(["a", "b"]);
    expect(evaluateJsonPath(site, ".spec['domain']")).toEqual(["acme.example.com"]);
    expect(evaluateJsonPath(site, '.status.conditions[?(@.type=="Ready")].reason')).toEqual(["Installed"]);
    expect(evaluateJsonPath(site, ".status.conditions[?(@.type!='Ready')].status")).toEqual(["False"]);
    expect(evaluateJsonPath(site, ".spec.missing.deeper")).toEqual([]);
    expect(() => evaluateJsonPath(site, ".spec[?(@.a > 1)]")).toThrow("unsupported JSONPath filter");
  });

  it("prints ages like kubectl (k8s.io/apimachinery duration.HumanDuration)", () => {
    const s = 1000;
    const cases: Array<[number, string]> = [
      [-5 * s, "<invalid>"],
      [-1 * s, "0s"],
      [59 * s, "59s"],
      [119 * s, "119s"],
      [150 * s, "2m30s"],
      [600 * s, "10m"],
      [3 * 3600 * s + 5 * 60 * s, "3h5m"],
      [30 * 3600 * s, "30h"],
      [(3 * 24 + 4) * 3600 * s, "3d4h"],
      [40 * 24 * 3600 * s, "40d"],
      [(3 * 365 + 10) * 24 * 3600 * s, "3y10d"],
      [9 * 365 * 24 * 3600 * s, "9y"],
    ];
    expect(cases.map(([ms]) => humanDuration(ms))).toEqual(cases.map(([, text]) => text));
  });
});
