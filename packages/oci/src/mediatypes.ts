/** Media types the registry client reads and writes (OCI image-spec 1.1 and Docker's v2 schema 2). */

export const OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
/** The `{}` blob artifacts use as a config when they have none (image-spec 1.1). */
export const OCI_EMPTY_JSON = "application/vnd.oci.empty.v1+json";

export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_CONTAINER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** Schema 1 manifests are refused: they carry no content digests a client can check. */
export const DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
export const DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json";

/** Manifest types that list other manifests (one per platform). */
export const INDEX_MEDIA_TYPES: readonly string[] = [OCI_IMAGE_INDEX, DOCKER_MANIFEST_LIST];
/** Manifest types that describe one image (config + layers). */
export const IMAGE_MANIFEST_MEDIA_TYPES: readonly string[] = [OCI_IMAGE_MANIFEST, DOCKER_MANIFEST_V2];
/** Everything a manifest request accepts; without the list types a registry would pick one platform for us. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...INDEX_MEDIA_TYPES, ...IMAGE_MANIFEST_MEDIA_TYPES];
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

/** Well-known annotation keys. */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";
