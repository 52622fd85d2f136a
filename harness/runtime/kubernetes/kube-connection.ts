// Which cluster the kubernetes runtime talks to, and its API clients: the current context
// of the kubeconfig (KUBECONFIG or ~/.kube/config), or the --kubeconfig / --context the
// user names. An unusable kubeconfig is an error that names it and says what to do.
import { existsSync } from "node:fs";
import { CoreV1Api, Exec, KubeConfig, Log, PortForward, VersionApi, Watch } from "@kubernetes/client-node";

export interface KubernetesTarget {
  /** A kubeconfig file; default: KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  context?: string;
  /** Put every object in this namespace (labelled) instead of a namespace per run. */
  namespace?: string;
}

export class KubernetesUnavailableError extends Error {
  override name = "KubernetesUnavailableError";
}

export const NO_CLUSTER_HINT = "start one with `sidecar-bench cluster up` (a single-node cluster on this machine) or `kind create cluster --name sidecar-bench --config kind-config.yaml`, or name one with --kubeconfig / --context";

export class KubeConnection {
  readonly core: CoreV1Api;
  readonly watch: Watch;
  readonly log: Log;
  readonly exec: Exec;
  readonly portForward: PortForward;

  private constructor(
    readonly config: KubeConfig,
    readonly contextName: string,
    readonly server: string,
  ) {
    this.core = config.makeApiClient(CoreV1Api);
    this.watch = new Watch(config);
    this.log = new Log(config);
    this.exec = new Exec(config);
    this.portForward = new PortForward(config, true);
  }

  /** --kubeconfig, else KUBECONFIG (its files merged) or ~/.kube/config, as kubectl reads them. */
  static load(target: KubernetesTarget): KubeConnection {
    const config = new KubeConfig();
    try {
      if (target.kubeconfig !== undefined) {
        if (!existsSync(target.kubeconfig)) throw new KubernetesUnavailableError(`kubeconfig ${target.kubeconfig} does not exist; ${NO_CLUSTER_HINT}`);
        config.loadFromFile(target.kubeconfig);
      } else {
        config.loadFromDefault();
      }
    } catch (error) {
      if (error instanceof KubernetesUnavailableError) throw error;
      throw new KubernetesUnavailableError(`cannot read the kubeconfig${target.kubeconfig ? ` ${target.kubeconfig}` : ""}: ${(error as Error).message}; ${NO_CLUSTER_HINT}`);
    }
    if (target.context !== undefined) {
      if (!config.getContexts().some((c) => c.name === target.context)) {
        throw new KubernetesUnavailableError(`the kubeconfig has no context "${target.context}" (it has: ${config.getContexts().map((c) => c.name).join(", ") || "none"})`);
      }
      config.setCurrentContext(target.context);
    }
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new KubernetesUnavailableError(`no current Kubernetes context; ${NO_CLUSTER_HINT}`);
    return new KubeConnection(config, config.getCurrentContext(), cluster.server);
  }

  /** The API server's version, or an error naming the server when it does not answer. */
  async serverVersion(): Promise<string> {
    try {
      return (await this.config.makeApiClient(VersionApi).getCode()).gitVersion;
    } catch (error) {
      throw new KubernetesUnavailableError(`the API server of context "${this.contextName}" (${this.server}) does not answer: ${firstLine(error)}; ${NO_CLUSTER_HINT}`);
    }
  }
}

/** The first line of an error from the client (its messages carry whole response bodies): the API's own message where there is one. */
export function firstLine(error: unknown): string {
  // A failed exec or port-forward rejects with the WebSocket's ErrorEvent, which carries a message but is no Error.
  const own = (error as { message?: unknown } | null)?.message;
  const text = error instanceof Error ? error.message : typeof own === "string" ? own : String(error);
  const body = /"message":"((?:[^"\\]|\\.)*)"/.exec(text);
  const message = statusMessage((error as { body?: unknown } | null)?.body) ?? body?.[1]!.replace(/\\"/g, '"');
  return (message ?? text).split("\n")[0]!.slice(0, 300);
}

/**
 * The message of the API's Status in an ApiException's body. The client keeps the body as
 * the response's text for the status codes its generated code does not list (404, 409,
 * 422, …), and its error message then holds that text JSON-escaped once more.
 */
function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (status as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}
