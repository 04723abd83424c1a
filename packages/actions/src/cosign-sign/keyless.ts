import { InputError, type Logger } from "@frostyard/kit";
import type { ImageSigner } from "@frostyard/cosign";
import type { CosignSignInputs } from "./inputs";

/** Keyless signing: the Actions OIDC token → Fulcio → Rekor. */
export async function keylessSigner(_inputs: CosignSignInputs, _logger: Logger): Promise<ImageSigner> {
  throw new InputError("key", "is empty, and keyless signing is not available yet", "a cosign private key");
}
