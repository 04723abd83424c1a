import { InputError } from "@frostyard/kit";

/** Which part of a key (or of where it comes from) was wrong. */
export type KeyProblem =
  "source" | "pem" | "json" | "kdf" | "cipher" | "password" | "pkcs8" | "key-type" | "public-key";

/**
 * A key that cannot be used: names the action input it came from, the part that is wrong and what is
 * accepted. Messages never contain key material or the password.
 */
export class CosignKeyError extends InputError {
  readonly problem: KeyProblem;
  constructor(input: string, problem: KeyProblem, message: string, accepted?: string) {
    super(input, message, accepted);
    this.name = "CosignKeyError";
    this.problem = problem;
  }
}
