/**
 * Symbolic dimensions of an exported model (`batch`, `seq`, or exporter
 * expressions such as `2*s0`), resolved from the user's `--dim name=value`
 * bindings. A tiny recursive-descent evaluator: numbers, names, + - * / // %,
 * parentheses and max/min/floor/ceil; nothing is passed to `eval`.
 */

export type Bindings = Map<string, number>;

/** The value of a dim expression, or undefined when a name is unbound or the text is not arithmetic. */
export function evaluateDim(text: string, bindings: Bindings): number | undefined {
  const tokens = text.match(/\s*(\d+|[A-Za-z_][A-Za-z0-9_.]*|\/\/|[-+*/%(),])/g);
  if (!tokens || tokens.join('').replace(/\s+/g, '') !== text.replace(/\s+/g, '')) return undefined;
  const list = tokens.map((t) => t.trim());
  let i = 0;
  const peek = () => list[i];
  const FUNCS: Record<string, (...xs: number[]) => number> = {
    max: Math.max, Max: Math.max, min: Math.min, Min: Math.min, floor: Math.floor, ceil: Math.ceil,
    FloorDiv: (a, b) => Math.floor(a / b), CeilDiv: (a, b) => Math.ceil(a / b),
  };
  const primary = (): number | undefined => {
    const t = list[i++];
    if (t === undefined) return undefined;
    if (/^\d+$/.test(t)) return Number(t);
    if (t === '(') {
      const v = expr();
      if (list[i++] !== ')') return undefined;
      return v;
    }
    if (t === '-') {
      const v = primary();
      return v === undefined ? undefined : -v;
    }
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(' && FUNCS[t]) {
        i++;
        const args: number[] = [];
        for (;;) {
          const v = expr();
          if (v === undefined) return undefined;
          args.push(v);
          const sep = list[i++];
          if (sep === ')') break;
          if (sep !== ',') return undefined;
        }
        return FUNCS[t](...args);
      }
      return bindings.get(t);
    }
    return undefined;
  };
  const term = (): number | undefined => {
    let v = primary();
    while (v !== undefined && ['*', '/', '//', '%'].includes(peek())) {
      const op = list[i++];
      const r = primary();
      if (r === undefined) return undefined;
      v = op === '*' ? v * r : op === '%' ? v % r : Math.floor(v / r);
    }
    return v;
  };
  const expr = (): number | undefined => {
    let v = term();
    while (v !== undefined && (peek() === '+' || peek() === '-')) {
      const op = list[i++];
      const r = term();
      if (r === undefined) return undefined;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const value = expr();
  return i === list.length && value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** The names a dim expression mentions (for the "give --dim NAME=N" message). */
export function dimNames(text: string): string[] {
  return (text.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []).filter((name) => !/^(max|Max|min|Min|floor|ceil|FloorDiv|CeilDiv)$/.test(name));
}

/** Parses the repeated `--dim name=value` flags. */
export function parseDimFlag(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
