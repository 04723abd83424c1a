/**
 * Uploading the `ami` disk to AWS, done by the builders themselves after the build. Both document the same
 * three flags (checked through the reference search, December 2026): bootc-image-builder's
 * `--aws-ami-name`, `--aws-bucket`, `--aws-region` ("only for type=ami"), required together (cobra
 * MarkFlagsRequiredTogether) and refused for other types ("aws flags set for non-ami image type"); and
 * image-builder's `build`, which takes `upload`'s flag set (the same three) and uploads after building an
 * `ami`, silently skipping the upload when one is missing. Both build their AWS client with the SDK's
 * default chain (`awscloud.NewDefault`), so credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and, for temporary ones (aws-actions/configure-aws-credentials with OIDC), AWS_SESSION_TOKEN: handed to
 * the container by name (`podman run -e NAME`), so their values are never on an argv or in a log.
 */

export interface AmiUpload {
  /** The AMI's name in AWS. */
  name: string;
  /** The S3 bucket the disk is staged in before it is imported; it must exist in `region`. */
  bucket: string;
  region: string;
}

/** Credentials the builders' AWS SDK reads from the environment; the first two must be set. */
export const AWS_CREDENTIAL_ENV = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
] as const;
const REQUIRED_CREDENTIALS = AWS_CREDENTIAL_ENV.slice(0, 2);

/** A value AWS would refuse, or an upload the builders cannot do: the entry maps `field` to its input. */
export class AmiUploadError extends Error {
  constructor(
    readonly field: keyof AmiUpload | "types",
    message: string,
  ) {
    super(message);
    this.name = "AmiUploadError";
  }
}

const RULES: Record<keyof AmiUpload, { pattern: RegExp; accepted: string }> = {
  // EC2 RegisterImage: 3–128 characters of letters, digits, ( ) [ ] space . / - ' @ _; ours starts with a
  // letter or digit so it can never read as a flag.
  name: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9()[\] ./'@_-]{2,127}$/,
    accepted: "3–128 letters, digits and ( ) [ ] . / - ' @ _ or spaces, starting with a letter or digit",
  },
  // S3 bucket names: 3–63 lowercase letters, digits, dots and hyphens, a letter or digit at each end.
  bucket: {
    pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    accepted: "an S3 bucket name: 3–63 lowercase letters, digits, '.' and '-'",
  },
  region: { pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, accepted: "an AWS region such as us-east-1" },
};

/** What `field` accepts, for the entry's InputError. */
export const amiAccepted = (field: keyof AmiUpload): string => RULES[field].accepted;

/** Checks the three values and that `types` holds the ami the builders upload. */
export function checkAmiUpload(upload: AmiUpload, types: readonly string[]): AmiUpload {
  for (const field of ["name", "bucket", "region"] as const)
    if (!RULES[field].pattern.test(upload[field]))
      throw new AmiUploadError(field, `'${upload[field].slice(0, 130)}' is not accepted by AWS`);
  if (!types.includes("ami"))
    throw new AmiUploadError("types", `an AMI upload needs the ami type, and types are ${types.join(", ")}`);
  return upload;
}

/** The builders' flags, the same for both. */
export function amiUploadArgs(upload: AmiUpload): string[] {
  return ["--aws-ami-name", upload.name, "--aws-bucket", upload.bucket, "--aws-region", upload.region];
}

/** The credential variables set in `env`: each passed to podman as `-e NAME` and kept across sudo. */
export function awsCredentialNames(env: Readonly<Record<string, string | undefined>>): string[] {
  return AWS_CREDENTIAL_ENV.filter((name) => env[name]);
}

/** Why the builders would find no credentials, or undefined. */
export function awsCredentialProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const missing = REQUIRED_CREDENTIALS.filter((name) => !env[name]);
  return missing.length > 0 ? `${missing.join(" and ")} unset in the step's environment` : undefined;
}
