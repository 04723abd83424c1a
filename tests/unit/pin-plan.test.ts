import { describe, expect, test } from "vitest";
import { extractDockerfile, extractYaml, planRef, type Mode } from "@frostyard/pin-digest";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"d".repeat(64)}`;

function planOf(file: "image" | "action", text: string, mode: Mode): string {
  const refs =
    file === "image"
      ? extractDockerfile("Containerfile", `FROM ${text}\n`).refs
      : extractYaml("w.yml", `jobs:\n  j:\n    steps:\n      - uses: ${text}\n`).refs;
  expect(refs).toHaveLength(1);
  const step = planRef(refs[0]!, mode);
  switch (step.do) {
    case "report":
      return `${step.outcome.status}${step.outcome.message ? `: ${step.outcome.message}` : ""}`;
    case "pin-image":
    case "update-image":
      return `${step.do} ${step.lookup}`;
    case "pin-action":
      return `${step.do} ${step.action.owner}/${step.action.repo}@${step.action.ref}`;
    case "update-action":
      return `${step.do} ${step.action.owner}/${step.action.repo} follow ${step.tag}`;
  }
}

describe("planRef", () => {
  test.each<[string, "image" | "action", string, Mode, string]>([
    ["unpinned image, pin", "image", "debian:12", "pin", "pin-image debian:12"],
    ["untagged image looks up latest", "image", "debian", "pin", "pin-image debian:latest"],
    [
      "unpinned image, check",
      "image",
      "debian:12",
      "check",
      "unpinned: 'debian:12' is not pinned to a digest",
    ],
    [
      "unpinned image, update leaves it",
      "image",
      "debian:12",
      "update",
      "unpinned: 'debian:12' is not pinned to a digest",
    ],
    ["pinned image, pin", "image", `debian:12@${DIGEST}`, "pin", "already-pinned"],
    ["pinned image, check", "image", `debian:12@${DIGEST}`, "check", "already-pinned"],
    ["pinned image, update", "image", `debian:12@${DIGEST}`, "update", "update-image debian:12"],
    ["digest-only image has no tag to follow", "image", `debian@${DIGEST}`, "update", "already-pinned"],
    [
      "invalid image",
      "image",
      "Debian:12",
      "pin",
      "error: 'Debian:12' is not a valid image reference: bad name 'Debian'; expected [registry/]repository[:tag][@sha256:<64 hex>], lowercase repository",
    ],
    [
      "variable image",
      "image",
      "$BASE",
      "pin",
      "variable: '$BASE' contains the variable $BASE; pin-digest does not guess its value: pin the value where it is set",
    ],
    ["tag action, pin", "action", "actions/checkout@v4", "pin", "pin-action actions/checkout@v4"],
    [
      "tag action, check",
      "action",
      "actions/checkout@v4",
      "check",
      "unpinned: 'actions/checkout@v4' is not pinned to a commit SHA",
    ],
    ["sha action, pin", "action", `actions/checkout@${SHA} # v4.2.2`, "pin", "already-pinned"],
    [
      "sha action, update follows its comment",
      "action",
      `actions/checkout@${SHA} # v4.2.2`,
      "update",
      "update-action actions/checkout follow v4.2.2",
    ],
    [
      "sha action with tag= comment",
      "action",
      `a/b@${SHA} # tag=v1`,
      "update",
      "update-action a/b follow v1",
    ],
    ...[
      "tag = v1.2.3",
      "renovate: tag=v1.2.3",
      "renovate: pin v1.2.3",
      "ratchet:a/b@v1.2.3",
      "v1.2.3+build.5",
      "pin @v1.2.3",
    ].map((comment): [string, "action", string, Mode, string] => [
      `sha action with '# ${comment}' follows what Renovate reads`,
      "action",
      `a/b@${SHA} # ${comment}`,
      "update",
      "update-action a/b follow v1.2.3",
    ]),
    [
      "sha action with a branch comment",
      "action",
      `a/b@${SHA} # main`,
      "update",
      "update-action a/b follow main",
    ],
    [
      "sha action whose comment names nothing Renovate follows",
      "action",
      `a/b@${SHA} # nightly build`,
      "update",
      "already-pinned",
    ],
    ["sha action without comment, update", "action", `actions/checkout@${SHA}`, "update", "already-pinned"],
    [
      "invalid action",
      "action",
      "checkout@v4",
      "pin",
      "error: 'checkout@v4' is not a valid action reference: not of the form owner/repo[/path]@ref; expected owner/repo[/path]@ref, ./local/path or docker://image",
    ],
  ])("%s", (_name, file, text, mode, expected) => {
    expect(planOf(file, text, mode)).toBe(expected);
  });
});
