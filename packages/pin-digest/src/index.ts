export * from "./types";
export { splitImage, formatPinnedImage, lookupReference, type ImageText } from "./image-text";
export { splitAction, actionName, isFullSha, isLocalAction, type ActionText } from "./action-text";
export { findVariable } from "./variables";
export { extractDockerfile, logicalLines } from "./dockerfile";
export { extractYaml } from "./yaml-refs";
export { extract, formatOf, type FileFormat } from "./extract";
export { DEFAULT_PATHS, findFiles, OutsideRootError, scan, type ScannedFile } from "./scan";
export { planRef, type Step } from "./plan";
export { applyEdits, imageEdits, actionEdits } from "./rewrite";
export { pinComment, readCommentRef, type CommentRef, type PinComment } from "./action-comment";
export { mapBounded } from "./concurrency";
export { writeFileAtomic } from "./write";
export type { ImageDigestResolver, ActionRefResolver, ActionResolution } from "./resolvers";
export { GitHubActionResolver, describeApiError, isRetryableApiError, newOctokit } from "./github-resolver";
export { registryResolver, type ManifestHeader } from "./registry-resolver";
export { pinDigests, type PinOptions, type PinReport } from "./pin";
export { pinRecords, outcomesTable, pullRequestBody, statusCounts, type PinRecord } from "./render";
export {
  openPullRequest,
  gitAuthEnv,
  workflowRefusal,
  WorkflowPermissionError,
  DEFAULT_BRANCH,
  type PullRequestOptions,
  type PullRequestResult,
} from "./pull-request";
