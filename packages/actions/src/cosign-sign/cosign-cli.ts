import { InputError, type Logger } from "@frostyard/kit";
import type { RegistryClient } from "@frostyard/oci";
import type { SignerIdentity, SignImagesReport } from "@frostyard/cosign";
import type { CosignSignInputs } from "./inputs";

/** `engine: cosign`: a pinned, checksummed cosign CLI signs instead of the native code. */
export async function signWithCosignCli(
  _inputs: CosignSignInputs,
  _client: RegistryClient,
  _logger: Logger,
): Promise<{ report: SignImagesReport; identity: SignerIdentity }> {
  throw new InputError("engine", "cosign is not available yet", "native");
}
