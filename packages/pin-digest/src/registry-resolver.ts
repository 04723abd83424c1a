import { messageWithCauses } from "@frostyard/kit";
import { formatReference, parseReference, type ImageReference, type ManifestHead } from "@frostyard/oci";
import type { ImageDigestResolver } from "./resolvers";

/** The part of @frostyard/oci's RegistryClient pin-digest uses: HEAD only, never a GET of the manifest. */
export interface ManifestHeader {
  headManifest(ref: ImageReference): Promise<ManifestHead | undefined>;
}

/**
 * Image lookups through a registry client. References are normalised by @frostyard/oci's parser, so
 * `debian:12` and `docker.io/library/debian:12` share one lookup; the client asks for index media types
 * first, so a multi-arch tag gives the index digest.
 */
export function registryResolver(client: ManifestHeader): ImageDigestResolver {
  return {
    canonical: (reference) => formatReference(parseReference(reference)),
    async digest(reference) {
      try {
        return (await client.headManifest(parseReference(reference)))?.digest;
      } catch (e) {
        const message = messageWithCauses(e);
        throw new Error(message.includes(reference) ? message : `${reference}: ${message}`, { cause: e });
      }
    },
  };
}
