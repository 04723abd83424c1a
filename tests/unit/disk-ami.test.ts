import { describe, expect, test } from "vitest";
import {
  AmiUploadError,
  amiUploadArgs,
  awsCredentialNames,
  awsCredentialProblem,
  checkAmiUpload,
} from "@frostyard/disk";

const OK = { name: "frostyard-os 1.2 (x86_64)", bucket: "frostyard.amis-1", region: "us-gov-west-1" };

describe("AMI upload options", () => {
  test("both builders' flags, in their documented spelling", () => {
    expect(amiUploadArgs(OK)).toEqual([
      "--aws-ami-name",
      "frostyard-os 1.2 (x86_64)",
      "--aws-bucket",
      "frostyard.amis-1",
      "--aws-region",
      "us-gov-west-1",
    ]);
  });

  test.each([
    ["name", { name: "ab" }, "'ab' is not accepted by AWS"],
    ["name", { name: "--aws-bucket=x" }, "'--aws-bucket=x' is not accepted by AWS"],
    ["name", { name: "os;rm -rf" }, "'os;rm -rf' is not accepted by AWS"],
    ["name", { name: "a".repeat(129) }, "is not accepted by AWS"],
    ["bucket", { bucket: "Frostyard" }, "'Frostyard' is not accepted by AWS"],
    ["bucket", { bucket: "-amis" }, "'-amis' is not accepted by AWS"],
    ["bucket", { bucket: "s3://amis" }, "'s3://amis' is not accepted by AWS"],
    ["region", { region: "eu-central" }, "'eu-central' is not accepted by AWS"],
    ["region", { region: "EU-CENTRAL-1" }, "'EU-CENTRAL-1' is not accepted by AWS"],
  ])("%s %j is refused", (field, bad, message) => {
    const check = () => checkAmiUpload({ ...OK, ...bad }, ["ami"]);
    expect(check).toThrow(AmiUploadError);
    expect(check).toThrow(message);
    try {
      check();
    } catch (error) {
      expect((error as AmiUploadError).field).toBe(field);
    }
  });

  test("types without ami are refused on types", () => {
    expect(() => checkAmiUpload(OK, ["qcow2", "raw"])).toThrow(
      "an AMI upload needs the ami type, and types are qcow2, raw",
    );
    expect(checkAmiUpload(OK, ["qcow2", "ami"])).toEqual(OK);
  });

  test.each([
    [{}, [], "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY unset in the step's environment"],
    [
      { AWS_ACCESS_KEY_ID: "AKIA" },
      ["AWS_ACCESS_KEY_ID"],
      "AWS_SECRET_ACCESS_KEY unset in the step's environment",
    ],
    [
      { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "" },
      ["AWS_ACCESS_KEY_ID"],
      "AWS_SECRET_ACCESS_KEY unset in the step's environment",
    ],
    [
      { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" },
      ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
      undefined,
    ],
    [
      { AWS_ACCESS_KEY_ID: "ASIA", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", AWS_PROFILE: "p" },
      ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
      undefined,
    ],
  ])("credentials %j: passed by name %j; problem %s", (env, names, problem) => {
    expect(awsCredentialNames(env)).toEqual(names);
    expect(awsCredentialProblem(env)).toBe(problem);
  });
});
