import { describe, expect, test } from "vitest";
import {
  convertArgv,
  downloadDbArgv,
  scanArgv,
  scannerNamingFrom,
  type ScanSettings,
  type ScanTarget,
} from "@frostyard/trivy";

const base: ScanSettings = {
  scanners: ["vuln", "secret"],
  severities: ["HIGH", "CRITICAL"],
  ignoreUnfixed: false,
  listAllPackages: false,
};
const tail = (json: string) => ["--exit-code", "0", "--format", "json", "--output", json];
const common = ["--cache-dir", "/c", "--skip-db-update", "--no-progress"];

describe("scanArgv", () => {
  test.each<[string, ScanTarget, Partial<ScanSettings>, string[]]>([
    [
      "an image by digest comes from the registry only",
      { kind: "image", ref: "127.0.0.1:5000/os@sha256:ab" },
      {},
      [
        "image",
        "--image-src",
        "remote",
        ...common,
        "--scanners",
        "vuln,secret",
        "--severity",
        "HIGH,CRITICAL",
        ...tail("/r.json"),
        "127.0.0.1:5000/os@sha256:ab",
      ],
    ],
    [
      "an OCI layout goes in with --input, one platform of its index",
      { kind: "oci-layout", ref: "/out/oci", platform: "linux/arm64" },
      {},
      [
        "image",
        "--input",
        "/out/oci",
        ...common,
        "--scanners",
        "vuln,secret",
        "--severity",
        "HIGH,CRITICAL",
        "--platform",
        "linux/arm64",
        ...tail("/r.json"),
      ],
    ],
    [
      "a rootfs with every option",
      { kind: "rootfs", ref: "/out/root" },
      {
        scanners: ["secret", "misconfig", "license"],
        ignoreUnfixed: true,
        ignorefile: "/w/.trivyignore",
        timeout: "10m",
        listAllPackages: true,
      },
      [
        "rootfs",
        ...common,
        "--scanners",
        "secret,misconfig,license",
        "--severity",
        "HIGH,CRITICAL",
        "--ignore-unfixed",
        "--ignorefile",
        "/w/.trivyignore",
        "--timeout",
        "10m",
        "--list-all-pkgs",
        ...tail("/r.json"),
        "/out/root",
      ],
    ],
  ])("%s", (_name, target, settings, argv) => {
    expect(scanArgv(target, { ...base, ...settings }, "/c", "/r.json")).toEqual(argv);
  });

  test("builds that predate the rename get config for misconfig", () => {
    const argv = scanArgv(
      { kind: "rootfs", ref: "/r" },
      { ...base, scanners: ["misconfig"] },
      "/c",
      "/j",
      "config",
    );
    expect(argv[argv.indexOf("--scanners") + 1]).toBe("config");
  });
});

describe("scannerNamingFrom", () => {
  test.each([
    [
      "      --scanners strings   comma-separated list of what security issues to detect (vuln,misconfig,secret,license)",
      "misconfig",
    ],
    [
      "      --scanners strings   comma-separated list of what security issues to detect (vuln,config,secret,license)",
      "config",
    ],
    ["no scanners flag at all", "misconfig"],
  ])("%s → %s", (help, naming) => {
    expect(scannerNamingFrom(`Usage:\n${help}\n`)).toBe(naming);
  });
});

test.each([
  [
    downloadDbArgv("/c", "mirror.gcr.io/aquasec/trivy-db:2"),
    [
      "image",
      "--download-db-only",
      "--no-progress",
      "--cache-dir",
      "/c",
      "--db-repository",
      "mirror.gcr.io/aquasec/trivy-db:2",
    ],
  ],
  [
    convertArgv("sarif", "/r.json", "/r.sarif"),
    ["convert", "--format", "sarif", "--output", "/r.sarif", "/r.json"],
  ],
  [
    convertArgv("cyclonedx", "/r.json", "/sbom.cdx.json"),
    ["convert", "--format", "cyclonedx", "--output", "/sbom.cdx.json", "/r.json"],
  ],
])("%j", (argv, expected) => {
  expect(argv).toEqual(expected);
});
