import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  attestationStatement,
  predicateSpec,
  renderDsseEnvelope,
  type PredicateSpec,
} from "@frostyard/cosign";
import { missingTools } from "../helpers/tools";

const run = promisify(execFile);

/**
 * cosign builds the attestation statement and envelope with Go's encoding/json; the bytes we sign must be
 * the bytes it would sign. cosign cannot be had here, but Go can: this program declares the structs
 * cosign marshals (in-toto-golang's StatementHeader/Subject, cosign's CosignPredicate,
 * go-securesystemslib's dsse.Envelope/Signature, with their json tags) and runs the same
 * Unmarshal-into-interface{} then Marshal that cosign's attestation.GenerateStatement does.
 */
const GO_PROGRAM = `package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
)

type Subject struct {
	Name   string            \`json:"name"\`
	Digest map[string]string \`json:"digest"\`
}
type StatementHeader struct {
	Type          string    \`json:"_type"\`
	PredicateType string    \`json:"predicateType"\`
	Subject       []Subject \`json:"subject"\`
}
type Statement struct {
	StatementHeader
	Predicate interface{} \`json:"predicate"\`
}
type CosignPredicate struct {
	Data      interface{}
	Timestamp string
}
type Signature struct {
	KeyID string \`json:"keyid"\`
	Sig   string \`json:"sig"\`
}
type Envelope struct {
	PayloadType string      \`json:"payloadType"\`
	Payload     string      \`json:"payload"\`
	Signatures  []Signature \`json:"signatures"\`
}

// args: kind predicateType file repo hex timestamp
func main() {
	raw, err := os.ReadFile(os.Args[3])
	if err != nil {
		panic(err)
	}
	var predicate interface{}
	switch os.Args[1] {
	case "json":
		if err := json.Unmarshal(raw, &predicate); err != nil {
			panic(err)
		}
	case "text":
		predicate = string(raw)
	case "custom":
		predicate = &CosignPredicate{Data: string(raw), Timestamp: os.Args[6]}
	}
	statement := Statement{
		StatementHeader: StatementHeader{
			Type:          "https://in-toto.io/Statement/v0.1",
			PredicateType: os.Args[2],
			Subject:       []Subject{{Name: os.Args[4], Digest: map[string]string{"sha256": os.Args[5]}}},
		},
		Predicate: predicate,
	}
	payload, err := json.Marshal(statement)
	if err != nil {
		panic(err)
	}
	envelope, _ := json.Marshal(Envelope{
		PayloadType: "application/vnd.in-toto+json",
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []Signature{{Sig: base64.StdEncoding.EncodeToString([]byte("sig"))}},
	})
	os.Stdout.Write(payload)
	os.Stdout.Write([]byte("\\n"))
	os.Stdout.Write(envelope)
}
`;

describe.skipIf(missingTools("go"))("attestation bytes against Go's encoding/json", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cosign-attest-go-"));
    await writeFile(join(dir, "main.go"), GO_PROGRAM);
    // Built once; stdlib only, so no module download (GOPROXY=off).
    await run("go", ["build", "-o", join(dir, "statement"), join(dir, "main.go")], {
      env: {
        ...process.env,
        GOCACHE: join(dir, "cache"),
        GOPATH: join(dir, "gopath"),
        GOPROXY: "off",
        GOFLAGS: "",
      },
    });
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
  const tricky = JSON.stringify({
    zeta: [1, -0.5, 1e21, 1e-7, 123456789012, true, null],
    "é-key": "naïve ☃ 😀 <script>&amp; \u2028 line\nbreak\ttab \u0001",
    Alpha: { nested: { b: 2, a: [{ y: "", x: {} }] } },
    alpha: "lowercase sorts after upper",
    "": "empty key",
    dup: 1,
  }).replace('"dup":1', '"dup":1,"dup":2');

  test.each([
    ["cyclonedx", tricky],
    ["spdxjson", '{"spdxVersion":"SPDX-2.3","packages":[{"name":"bash","versionInfo":"5.2.37-2"}]}'],
    ["spdx", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0 <&>\n"],
    ["custom", 'free text, "quoted", <tagged> & \u2029'],
    ["https://example.com/predicate/v1", '{"b":[3,2,1],"a":"x"}'],
  ])("%s: statement and envelope byte for byte", async (type, content) => {
    const spec = predicateSpec(type) as PredicateSpec;
    const file = join(dir, `${type.replace(/\W/g, "_")}.in`);
    await writeFile(file, content);
    const timestamp = new Date("2026-12-04T14:05:06.789Z");
    const ours = attestationStatement({
      spec,
      file: Buffer.from(content),
      repository: "127.0.0.1:5000/acme/os",
      digest: DIGEST,
      timestamp,
    });
    const { stdout } = await run(join(dir, "statement"), [
      spec.predicate,
      spec.predicateType,
      file,
      "127.0.0.1:5000/acme/os",
      DIGEST.slice(7),
      "2026-12-04T14:05:06Z",
    ]);
    const [goStatement, goEnvelope] = stdout.split("\n");
    expect(ours.toString()).toBe(goStatement);
    expect(renderDsseEnvelope("application/vnd.in-toto+json", ours, Buffer.from("sig")).toString()).toBe(
      goEnvelope,
    );
  });
});
