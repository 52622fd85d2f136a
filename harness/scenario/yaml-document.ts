// YAML parsing that keeps positions: every later issue (schema or cross-file) is turned
// into file:line:col by looking its field path up in the parsed document.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair } from "yaml";
import { formatFieldPath, type PathSegment } from "./manifest-error.ts";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  column: number;
}

export interface YamlProblem {
  path: string;
  position?: SourcePosition;
  message: string;
}

export interface ParsedYaml {
  /** The document as plain data; `undefined` when syntax errors make it meaningless. */
  data: unknown;
  /** Syntax errors, duplicate keys, unresolved aliases and the like. */
  problems: YamlProblem[];
  /**
   * Where the field at `path` is written: its key (`target: "key"`) or its value. A
   * missing field is placed at the key of its nearest existing ancestor.
   */
  locate(path: readonly PathSegment[], target?: "key" | "value"): SourcePosition | undefined;
}

type AnyNode = Node | Pair | null | undefined;

function scalarKey(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function startOf(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}

/** Every pair of every mapping, with the field path of its value. */
function* walkPairs(node: AnyNode, path: PathSegment[], seen = new Set<unknown>()): Generator<{ path: PathSegment[]; pair: Pair; map: Pair[] }> {
  if (node === null || node === undefined || seen.has(node)) return;
  seen.add(node);
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = scalarKey(pair);
      const childPath = [...path, key ?? "?"];
      yield { path: childPath, pair, map: node.items };
      yield* walkPairs(pair.value as AnyNode, childPath, seen);
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) yield* walkPairs(item as AnyNode, [...path, index], seen);
  }
}

function aliasTarget(node: AnyNode, doc: Document): AnyNode {
  return isAlias(node) ? node.resolve(doc) : node;
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys is yaml's default; spelled out because duplicate keys must stay errors.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const position = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const locate = (path: readonly PathSegment[], target: "key" | "value" = "value"): SourcePosition | undefined => {
    let node: AnyNode = doc.contents;
    let keyNode: AnyNode;
    for (const [depth, segment] of path.entries()) {
      const current = aliasTarget(node, doc);
      let next: AnyNode;
      let nextKey: AnyNode;
      if (isMap(current)) {
        const pair = current.items.find((p) => scalarKey(p) === String(segment));
        if (pair !== undefined) {
          next = pair.value as AnyNode;
          nextKey = pair.key as AnyNode;
        }
      } else if (isSeq(current) && typeof segment === "number") {
        next = current.items[segment] as AnyNode;
        nextKey = next;
      }
      if (nextKey === undefined) {
        // Missing: point at the key that owns the mapping the field belongs in.
        return position(startOf(keyNode) ?? startOf(node) ?? 0);
      }
      node = next;
      keyNode = nextKey;
      if (depth === path.length - 1 && target === "key") return position(startOf(keyNode));
    }
    return position(startOf(node) ?? startOf(keyNode) ?? 0);
  };

  const problems: YamlProblem[] = [];
  let syntaxOk = true;
  for (const error of doc.errors) {
    if (error.code === "DUPLICATE_KEY") {
      const found = [...walkPairs(doc.contents, [])].find(({ pair }) => startOf(pair.key) === error.pos[0]);
      const key = found ? scalarKey(found.pair) : undefined;
      const first = found?.map.find((p) => p !== found.pair && scalarKey(p) === key);
      const firstLine = first === undefined ? undefined : position(startOf(first.key))?.line;
      problems.push({
        path: found ? formatFieldPath(found.path) : "",
        position: position(error.pos[0]),
        message: `duplicate key ${JSON.stringify(key ?? text.slice(error.pos[0], error.pos[1]))}${firstLine === undefined ? "" : ` (first defined at line ${firstLine})`}`,
      });
    } else {
      syntaxOk = false;
      problems.push({ path: "", position: position(error.pos[0]), message: `YAML syntax error: ${error.message}` });
    }
  }
  // Warnings (unresolved tags, complex keys) mean the data is not what the author wrote.
  for (const warning of doc.warnings) {
    problems.push({ path: "", position: position(warning.pos[0]), message: `YAML: ${warning.message}` });
  }
  if (!syntaxOk) return { data: undefined, problems, locate };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    let offset: number | undefined;
    visit(doc, {
      Alias(_, alias) {
        if (alias.resolve(doc) === undefined) {
          offset = startOf(alias);
          return visit.BREAK;
        }
        return undefined;
      },
    });
    problems.push({ path: "", position: position(offset), message: `YAML: ${(error as Error).message}` });
    return { data: undefined, problems, locate };
  }
  return { data, problems, locate };
}
