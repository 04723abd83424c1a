export * from "./stages";
export * from "./report";
export * from "./pipeline";
export * from "./layout-rootfs";
export { layoutRepositoryName } from "./stage-push";
