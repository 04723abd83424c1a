import { describe, expect, test } from "vitest";
import { allowsPlainHttp, isLoopbackRegistry, parseLinkNext, registryBaseUrl } from "@frostyard/oci";

describe("scheme choice", () => {
  test.each<[string, string[], boolean, string]>([
    ["localhost", [], true, "http://localhost"],
    ["localhost:5000", [], true, "http://localhost:5000"],
    ["127.0.0.1:5000", [], true, "http://127.0.0.1:5000"],
    ["127.1.2.3", [], true, "http://127.1.2.3"],
    ["[::1]:5000", [], true, "http://[::1]:5000"],
    ["ghcr.io", [], false, "https://ghcr.io"],
    ["docker.io", [], false, "https://registry-1.docker.io"],
    ["128.0.0.1:5000", [], false, "https://128.0.0.1:5000"],
    ["127.0.0.1.example.com", [], false, "https://127.0.0.1.example.com"],
    ["localhost.example.com", [], false, "https://localhost.example.com"],
    ["[::2]:5000", [], false, "https://[::2]:5000"],
    ["registry.lan:5000", ["registry.lan:5000"], true, "http://registry.lan:5000"],
    ["registry.lan:5000", ["REGISTRY.LAN"], true, "http://registry.lan:5000"],
    ["registry.lan:5001", ["registry.lan:5000"], false, "https://registry.lan:5001"],
    ["other.lan", ["registry.lan"], false, "https://other.lan"],
  ])("%s (insecure %j)", (registry, insecure, plain, base) => {
    expect(allowsPlainHttp(registry, insecure)).toBe(plain);
    expect(isLoopbackRegistry(registry)).toBe(plain && insecure.length === 0);
    expect(registryBaseUrl(registry, insecure)).toBe(base);
  });
});

describe("Link pagination", () => {
  const base = "https://r.example";
  test.each<[string | null, string | undefined]>([
    ['</v2/a/tags/list?last=b&n=2>; rel="next"', "https://r.example/v2/a/tags/list?last=b&n=2"],
    ["<https://cdn.example/v2/a/tags/list?last=b>; rel=next", "https://cdn.example/v2/a/tags/list?last=b"],
    ['</p1>; rel="prev", </p3>; rel="next"', "https://r.example/p3"],
    ['</p1>; rel="prev"', undefined],
    [null, undefined],
    ["garbage", undefined],
  ])("%s", (header, expected) => {
    expect(parseLinkNext(header, base)).toBe(expected);
  });
});
