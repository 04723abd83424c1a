import { describe, expect, test } from "vitest";
import {
  COMPROMISED_TRIVY_VERSIONS,
  DEFAULT_TRIVY_VERSION,
  TRIVY_DOWNLOADS,
  TrivyVersionError,
  trivyDownload,
} from "@frostyard/trivy";

describe("the pinned Trivy table", () => {
  test.each([
    [
      "0.70.0",
      "x64",
      "trivy_0.70.0_Linux-64bit.tar.gz",
      "8b4376d5d6befe5c24d503f10ff136d9e0c49f9127a4279fd110b727929a5aa9",
    ],
    [
      "v0.70.0",
      "arm64",
      "trivy_0.70.0_Linux-ARM64.tar.gz",
      "2f6bb988b553a1bbac6bdd1ce890f5e412439564e17522b88a4541b4f364fc8d",
    ],
    [
      "0.69.3",
      "x64",
      "trivy_0.69.3_Linux-64bit.tar.gz",
      "1816b632dfe529869c740c0913e36bd1629cb7688bd5634f4a858c1d57c88b75",
    ],
  ] as const)("%s on %s → %s", (version, arch, asset, sha256) => {
    const download = trivyDownload(version, arch);
    expect(download.url).toBe(
      `https://github.com/aquasecurity/trivy/releases/download/v${version.replace(/^v/, "")}/${asset}`,
    );
    expect(download.sha256).toBe(sha256);
    expect(download).toMatchObject({ tool: "trivy", archive: "tar.gz", binaries: ["trivy"] });
  });

  test("the default is a post-incident release, pinned for both architectures", () => {
    expect(DEFAULT_TRIVY_VERSION).toBe("0.70.0");
    expect(trivyDownload(DEFAULT_TRIVY_VERSION, "x64").version).toBe("0.70.0");
    expect(trivyDownload(DEFAULT_TRIVY_VERSION, "arm64").version).toBe("0.70.0");
  });

  test("every sum is 64 hex digits and no two entries share one", () => {
    for (const d of TRIVY_DOWNLOADS) expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(TRIVY_DOWNLOADS.map((d) => d.sha256)).size).toBe(TRIVY_DOWNLOADS.length);
  });

  test.each([
    ["0.69.4", /Trivy 0\.69\.4 is a compromised release \(CVE-2026-33634 \/ GHSA-69fq-xp46-6x23/],
    ["v0.69.5", /Trivy 0\.69\.5 is a compromised release \(CVE-2026-33634/],
    ["0.69.6", /Trivy 0\.69\.6 is a compromised release/],
    ["latest", /'latest' is not a pinned version/],
    ["", /'' is not a pinned version/],
    ["0.58.1", /trivy 0\.58\.1 is not in the table of pinned downloads/],
  ])("%j is refused: %s", (version, message) => {
    const error = (() => {
      try {
        trivyDownload(version, "x64");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TrivyVersionError);
    expect((error as Error).message).toMatch(message);
    expect((error as TrivyVersionError).accepted).toBe("a pinned version (0.70.0, 0.69.3) or system");
  });

  test("no compromised release is in the table, even by accident", () => {
    const versions = TRIVY_DOWNLOADS.map((d) => d.version);
    for (const bad of COMPROMISED_TRIVY_VERSIONS) expect(versions).not.toContain(bad);
    // A table that did list one still refuses it by name.
    const poisoned = [{ ...TRIVY_DOWNLOADS[0]!, version: "0.69.4" }];
    expect(() => trivyDownload("0.69.4", "x64", poisoned)).toThrow(/compromised release/);
  });
});
