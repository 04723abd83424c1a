import { writeFile } from "node:fs/promises";

/**
 * A bootc host's containers-policy.json for one registry: reject everything, except images of that
 * registry signed (legacy cosign `.sig`) by `keyPath` for the repository they are pulled from. Written to
 * `path`, which is returned; skopeo and podman read it with `--policy`.
 */
export async function writeHostPolicy(path: string, registryHost: string, keyPath: string): Promise<string> {
  await writeFile(
    path,
    JSON.stringify({
      default: [{ type: "reject" }],
      transports: {
        docker: {
          [registryHost]: [{ type: "sigstoreSigned", keyPath, signedIdentity: { type: "matchRepository" } }],
        },
      },
    }),
  );
  return path;
}
