import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderTemplate, TemplateError, type TemplateContext } from "./template.ts";

function context(overrides: Partial<TemplateContext> = {}): TemplateContext {
  const dir = mkdtempSync(join(tmpdir(), "sb-template-"));
  return {
    container: "envoy",
    ports: { envoy: { ingress: 40001, admin: 40002 }, primary: { http: 40003 } },
    host: "127.0.0.1",
    baseDir: dir,
    outDir: join(dir, "out"),
    origin: "envoy.yaml: spec.container.command[2]",
    ...overrides,
  };
}

describe("renderTemplate", () => {
  it("resolves own and other containers' ports, with either quote and any spacing", () => {
    expect(renderTemplate("{{ port 'admin' }}", context())).toBe("40002");
    expect(renderTemplate('{{port "primary.http"}}', context())).toBe("40003");
    expect(renderTemplate("http://{{ host }}:{{  port 'ingress'  }}/v2", context())).toBe("http://127.0.0.1:40001/v2");
    expect(renderTemplate("no templates here", context())).toBe("no templates here");
  });

  it("renders a referenced file recursively and expands to the rendered copy's path", () => {
    const ctx = context();
    writeFileSync(join(ctx.baseDir, "bootstrap.yaml"), "admin: {{ port 'admin' }}\nupstream: {{ port 'primary.http' }}\n");
    const path = renderTemplate("{{ file 'bootstrap.yaml' }}", ctx);
    expect(path).toBe(join(ctx.outDir, "envoy-bootstrap.yaml"));
    expect(readFileSync(path, "utf8")).toBe("admin: 40002\nupstream: 40003\n");
  });

  it("names the source and what exists when a reference is wrong", () => {
    expect(() => renderTemplate("{{ port 'admin2' }}", context())).toThrow(
      'envoy.yaml: spec.container.command[2]: {{ port \'admin2\' }} names port "admin2" of "envoy", which declares only: ingress, admin',
    );
    expect(() => renderTemplate("{{ port 'sidecar.http' }}", context())).toThrow(/names container "sidecar", which is not in this pod \(containers: envoy, primary\)/);
    expect(() => renderTemplate("{{ port }}", context())).toThrow(/needs a quoted argument/);
    expect(() => renderTemplate("{{ env 'HOME' }}", context())).toThrow(/unknown template directive "env"/);
    expect(() => renderTemplate("{{ file 'missing.yaml' }}", context())).toThrow(TemplateError);
  });

  it("expands a mounted volume to its path, and names the mounted ones when it is not", () => {
    const ctx = context({ volumes: { logs: "/pod/volumes/logs" } });
    expect(renderTemplate("--file={{ volume 'logs' }}/access.log", ctx)).toBe("--file=/pod/volumes/logs/access.log");
    expect(() => renderTemplate("{{ volume 'secrets' }}", ctx)).toThrow(/names volume "secrets", which container "envoy" does not mount \(spec.volumes: logs\)/);
    expect(() => renderTemplate("{{ volume 'logs' }}", context())).toThrow(/spec.volumes: none/);
  });

  it("reports errors inside a referenced file against that file", () => {
    const ctx = context();
    writeFileSync(join(ctx.baseDir, "bad.yaml"), "port: {{ port 'nope' }}\n");
    expect(() => renderTemplate("{{ file 'bad.yaml' }}", ctx)).toThrow(`${join(ctx.baseDir, "bad.yaml")}: {{ port 'nope' }} names port "nope"`);
  });
});
