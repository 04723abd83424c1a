/** What the caller knows about the image; each present field becomes an `org.opencontainers.image.*` label. */
export interface StandardLabelInfo {
  title?: string;
  version?: string;
  /** RFC 3339 timestamp. */
  created?: string;
  revision?: string;
  source?: string;
  url?: string;
  description?: string;
}

/** The pre-defined annotation keys of image-spec annotations.md, as labels. */
export function standardLabels(info: StandardLabelInfo): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of ["title", "version", "created", "revision", "source", "url", "description"] as const) {
    const value = info[key];
    if (value !== undefined && value !== "") labels[`org.opencontainers.image.${key}`] = value;
  }
  return labels;
}
