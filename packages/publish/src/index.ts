export * from "./credentials";
export * from "./floating-tags";
export * from "./publish-image";
export * from "./version-tag";
export * from "./publish-index";
