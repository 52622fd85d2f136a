// The reference primary's JSON encoding (orjson, compact): what a line it wrote looks like
// byte for byte. A received line is parsed keeping each number's text (JSON.parse would
// turn "12.0" into 12 and lose how it was written), and re-encoded the way the primary
// encodes: no whitespace, keys in their order, strings escaped as orjson escapes them —
// which is exactly JSON.stringify's escaping (", \, \b \f \n \r \t, other controls as
// lowercase \u00XX; non-ASCII, "/" and DEL as they are). A line whose re-encoding differs
// from its own text was re-formatted on the way (spaces added, non-ASCII escaped, …).

/** A JSON value with each number kept as the text it was written as. */
export type JsonTree = string | boolean | null | { number: string } | JsonTree[] | { object: Array<[string, JsonTree]> };

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 64;

/** Parses one JSON text (RFC 8259), keeping number texts; throws JsonSyntaxError. */
export function parseKeepingNumbers(text: string): JsonTree {
  let at = 0;
  const space = () => {
    while (at < text.length && (text[at] === " " || text[at] === "\t" || text[at] === "\n" || text[at] === "\r")) at++;
  };
  const value = (depth: number): JsonTree => {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(`nested deeper than ${MAX_DEPTH}`, at);
    space();
    const c = text[at];
    if (c === "{") {
      at++;
      const entries: Array<[string, JsonTree]> = [];
      space();
      if (text[at] === "}") {
        at++;
        return { object: entries };
      }
      for (;;) {
        space();
        if (text[at] !== '"') throw new JsonSyntaxError("expected a key", at);
        const key = string();
        space();
        if (text[at] !== ":") throw new JsonSyntaxError('expected ":"', at);
        at++;
        entries.push([key, value(depth + 1)]);
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "}") {
          at++;
          return { object: entries };
        }
        throw new JsonSyntaxError('expected "," or "}"', at);
      }
    }
    if (c === "[") {
      at++;
      const items: JsonTree[] = [];
      space();
      if (text[at] === "]") {
        at++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "]") {
          at++;
          return items;
        }
        throw new JsonSyntaxError('expected "," or "]"', at);
      }
    }
    if (c === '"') return string();
    for (const [word, literal] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return literal;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number === null) throw new JsonSyntaxError("expected a value", at);
    at += number[0].length;
    return { number: number[0] };
  };
  const string = (): string => {
    const start = at;
    at++;
    for (;;) {
      if (at >= text.length) throw new JsonSyntaxError("unterminated string", start);
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code < 0x20) throw new JsonSyntaxError("unescaped control character in a string", at);
      at += code === 0x5c ? 2 : 1;
    }
    at++;
    // The slice is a valid JSON string literal now: JSON.parse decodes its escapes.
    return JSON.parse(text.slice(start, at)) as string;
  };
  const parsed = value(0);
  space();
  if (at !== text.length) throw new JsonSyntaxError("unexpected text after the value", at);
  return parsed;
}

/** The tree as the primary's orjson writes it. */
export function encodeLikePrimary(tree: JsonTree): string {
  if (tree === null || typeof tree === "boolean" || typeof tree === "string") return JSON.stringify(tree);
  if (Array.isArray(tree)) return `[${tree.map(encodeLikePrimary).join(",")}]`;
  if ("number" in tree) return tree.number;
  return `{${tree.object.map(([key, value]) => `${JSON.stringify(key)}:${encodeLikePrimary(value)}`).join(",")}}`;
}

/** An object's member, or undefined. */
export function member(tree: JsonTree, key: string): JsonTree | undefined {
  if (tree === null || typeof tree !== "object" || Array.isArray(tree) || !("object" in tree)) return undefined;
  return tree.object.find(([name]) => name === key)?.[1];
}

/** A member that is an integer (written without fraction or exponent), or undefined. */
export function integerMember(tree: JsonTree, key: string): number | undefined {
  const value = member(tree, key);
  if (value === undefined || value === null || typeof value !== "object" || !("number" in value) || !/^-?\d+$/.test(value.number)) return undefined;
  const parsed = Number(value.number);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

export function stringMember(tree: JsonTree, key: string): string | undefined {
  const value = member(tree, key);
  return typeof value === "string" ? value : undefined;
}

export function integerTree(value: number): JsonTree {
  if (!Number.isSafeInteger(value)) throw new Error(`integerTree: ${value} is not an integer`);
  return { number: String(value) };
}
