/**
 * Matches request paths against patterns such as `/ws`, `/ws/:clientId`, `/ws/room/:roomId`.
 *
 * - Static segments match literally: `/%77s` is not `/ws`, so a proxy rule written against the
 *   raw path sees the path the router routes. Only a parameter is percent-decoded; one that cannot
 *   be decoded is kept raw and fails the id rule.
 * - At every depth a static segment wins over a parameter, and the router never backtracks from a
 *   static match. That makes static words reserved: with `/ws/room/:roomId` registered, `/ws/room`
 *   is no route at all rather than `/ws/:clientId` with clientId "room", and neither is a
 *   parameter that decodes to a static word at its position (`/ws/%72oom`).
 * - A parameter never matches an empty segment (`/ws/room/` has no room id).
 */
export interface RouteMatch<T> {
  readonly value: T;
  readonly params: Readonly<Record<string, string>>;
}

interface Node<T> {
  readonly statics: Map<string, Node<T>>;
  param?: { readonly name: string; readonly node: Node<T> };
  value?: T;
}

const newNode = <T>(): Node<T> => ({ statics: new Map() });

export class PathRouter<T> {
  private readonly root = newNode<T>();

  /** Registers a pattern; throws on a duplicate pattern or two parameter names at one position. */
  add(pattern: string, value: T): void {
    let node = this.root;
    for (const segment of splitPath(pattern)) {
      if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (!name) throw new Error(`Empty parameter name in route "${pattern}"`);
        if (node.param && node.param.name !== name) {
          throw new Error(
            `Route "${pattern}" names parameter ":${name}" where another route has ":${node.param.name}"`,
          );
        }
        node.param ??= { name, node: newNode<T>() };
        node = node.param.node;
      } else {
        let next = node.statics.get(segment);
        if (!next) {
          next = newNode<T>();
          node.statics.set(segment, next);
        }
        node = next;
      }
    }
    if (node.value !== undefined) throw new Error(`Route "${pattern}" is registered twice`);
    node.value = value;
  }

  match(pathname: string): RouteMatch<T> | undefined {
    let node = this.root;
    let params: Record<string, string> | undefined;
    for (const raw of splitPath(pathname)) {
      const next = node.statics.get(raw);
      if (next) {
        node = next;
        continue;
      }
      if (!node.param || raw === '') return undefined;
      const segment = decodeSegment(raw);
      // An escaped static word is neither that word nor an id: it stays reserved.
      if (node.statics.has(segment)) return undefined;
      (params ??= {})[node.param.name] = segment;
      node = node.param.node;
    }
    return node.value === undefined ? undefined : { value: node.value, params: params ?? {} };
  }
}

/** `/` → [], `/ws/room/a` → ['ws', 'room', 'a'], `/ws/` → ['ws', '']. */
function splitPath(path: string): string[] {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  return trimmed === '' ? [] : trimmed.split('/');
}

function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Malformed escapes stay raw: "%" is outside the id alphabet, so the id check refuses them.
    return raw;
  }
}
