// The Go request-guard sidecar's own tests (go test, standard library only, offline).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest } from "../../native-suite.ts";

describe("sidecar integration request-guard (Go)", () => {
  nativeSuiteTest({
    title: "passes go test",
    command: "go",
    args: ["test", "-count=1", "./..."],
    cwd: path.dirname(fileURLToPath(import.meta.url)),
    env: { GOTOOLCHAIN: "local", GOPROXY: "off", CGO_ENABLED: "0" },
    missingHint: "install Go 1.22 or newer (https://go.dev/dl/) and put `go` on PATH",
  });
});
