/**
 * PATCH bodies the emulator accepts: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch, handled as a merge patch that also merges
 * lists of named objects by `name` and drops the `$`-directives kubectl sends.
 *
 * @module
 */

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Applies an RFC 7386 JSON merge patch.
 *
 * @param target the current document (not modified)
 * @param patch the merge patch
 * @returns the patched document
 */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function isNamedList(v: Json): v is Record<string, Json>[] {
  return Array.isArray(v) && v.length > 0 && v.every((e) => isObject(e) && "name" in e);
}

/**
 * Applies a strategic merge patch the way the emulator understands it: a merge patch
 * where lists of objects with a `name` merge by name (`$patch: delete` removes one),
 * `$setElementOrder/<list>` orders them, and other `$` directives are ignored.
 *
 * @param target the current document (not modified)
 * @param patch the strategic merge patch
 * @returns the patched document
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && (isNamedList(v) || isNamedList(out[k]))) {
      const cur = Array.isArray(out[k]) ? out[k] as Record<string, Json>[] : [];
      const byName = new Map(cur.map((e) => [String(e["name"]), e]));
      for (const e of v as Record<string, Json>[]) {
        const name = String(e["name"]);
        if (e["$patch"] === "delete") byName.delete(name);
        else byName.set(name, strategicMergePatch(byName.get(name), e) as Record<string, Json>);
      }
      const order = patch[`$setElementOrder/${k}`];
      let list = [...byName.values()];
      if (Array.isArray(order)) {
        const names = order.map((o) => isObject(o) ? String(o["name"]) : "");
        list = [
          ...names.flatMap((n) => byName.get(n) ? [byName.get(n)!] : []),
          ...list.filter((e) => !names.includes(String(e["name"]))),
        ];
      }
      out[k] = list;
    } else {
      out[k] = strategicMergePatch(out[k], v);
    }
  }
  return out;
}

function unescape(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new SyntaxError(`Cannot use JSON pointer "${path}"`);
  return path.slice(1).split("/").map(unescape);
}

function parentOf(doc: Json, tokens: string[], path: string): [Json, string] {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new RangeError(`Cannot apply JSON patch: "${path}" not found`);
  }
  return [cur, tokens[tokens.length - 1]!];
}

function getAt(doc: Json, path: string): Json {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new RangeError(`Cannot apply JSON patch: "${path}" not found`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const [parent, last] = parentOf(doc, parsePointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) {
      throw new RangeError(`Cannot apply JSON patch: "${path}" not found`);
    }
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !(last in parent)) {
    throw new RangeError(`Cannot apply JSON patch: "${path}" not found`);
  }
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const [parent, last] = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) {
      throw new RangeError(`Cannot apply JSON patch: index in "${path}" out of range`);
    }
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) {
      throw new RangeError(`Cannot apply JSON patch: "${path}" not found`);
    }
    parent[last] = value;
  } else {
    throw new RangeError(`Cannot apply JSON patch: parent of "${path}" is not a container`);
  }
  return doc;
}

/**
 * Applies an RFC 6902 JSON patch.
 *
 * @param target the current document (not modified)
 * @param ops the operations
 * @returns the patched document
 * @throws {RangeError} when a path is missing or a `test` fails
 * @throws {SyntaxError} on a malformed operation
 */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new SyntaxError("Cannot apply JSON patch: body is not an array");
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op["op"] !== "string" || typeof op["path"] !== "string") {
      throw new SyntaxError(`Cannot apply JSON patch operation ${JSON.stringify(op)}`);
    }
    const path = op["path"];
    switch (op["op"]) {
      case "add":
        doc = addAt(doc, path, structuredClone(op["value"]), false);
        break;
      case "replace":
        doc = addAt(doc, path, structuredClone(op["value"]), true);
        break;
      case "remove":
        removeAt(doc, path);
        break;
      case "move": {
        const v = removeAt(doc, String(op["from"]));
        doc = addAt(doc, path, v, false);
        break;
      }
      case "copy":
        doc = addAt(doc, path, structuredClone(getAt(doc, String(op["from"]))), false);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op["value"])) {
          throw new RangeError(`Cannot apply JSON patch: test of "${path}" failed`);
        }
        break;
      default:
        throw new SyntaxError(`Cannot apply JSON patch operation "${op["op"]}"`);
    }
  }
  return doc;
}
