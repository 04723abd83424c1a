export * from "./credentials";
export * from "./floating-tags";
export * from "./publish-image";
export * from "./version-tag";
export * from "./previous-image";
export * from "./publish-index";
export * from "./push-artifact";
