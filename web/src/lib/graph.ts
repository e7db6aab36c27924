/**
 * Automatic layered layout for the project canvas (a small Sugiyama-style pass, linear-ish in nodes + edges, so a
 * project of 500 services lays out in a few milliseconds): layers by longest path from what a node depends on
 * (cycles broken at the back edge), order inside a layer by the barycenter of neighbours (two sweeps), and layers
 * taller than `maxRows` wrapped into several columns. Nodes without any edge are packed in a grid after the rest.
 */

/** GraphNode is a box to place. */
export interface GraphNode {
  /** id is unique among the nodes. */
  id: string;
}

/** GraphEdge says that `from` depends on (references) `to`; `to` is laid out left of `from`. */
export interface GraphEdge {
  /** from is the referencing node's id. */
  from: string;
  /** to is the referenced node's id. */
  to: string;
}

/** Placed is a node's box in layout coordinates. */
export interface Placed {
  /** x is the left edge. */
  x: number;
  /** y is the top edge. */
  y: number;
}

/** LayoutOptions sizes the boxes and gaps (pixels). */
export interface LayoutOptions {
  /** width of a node box. */
  width: number;
  /** height of a node box. */
  height: number;
  /** gapX between columns. */
  gapX: number;
  /** gapY between rows. */
  gapY: number;
  /** maxRows caps a column's height before it wraps (default: about √n, at least 6). */
  maxRows?: number;
}

/** Layout is the result: a position per node id and the total size. */
export interface Layout {
  /** positions by node id. */
  positions: Map<string, Placed>;
  /** width is the extent of all boxes. */
  width: number;
  /** height is the extent of all boxes. */
  height: number;
}

/** layoutGraph places nodes in layers; edges to unknown ids are ignored. */
export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[], o: LayoutOptions): Layout {
  const ids = new Set(nodes.map((n) => n.id));
  const deps = new Map<string, string[]>();
  const linked = new Set<string>();
  const neighbours = new Map<string, string[]>();
  for (const n of nodes) {
    deps.set(n.id, []);
    neighbours.set(n.id, []);
  }
  for (const e of edges) {
    if (!ids.has(e.from) || !ids.has(e.to) || e.from === e.to) continue;
    deps.get(e.from)!.push(e.to);
    neighbours.get(e.from)!.push(e.to);
    neighbours.get(e.to)!.push(e.from);
    linked.add(e.from);
    linked.add(e.to);
  }

  // Longest path from the dependencies, iteratively (no recursion limit on long chains); a back edge is ignored.
  const layer = new Map<string, number>();
  const state = new Map<string, 1 | 2>();
  for (const start of nodes) {
    if (!linked.has(start.id) || state.has(start.id)) continue;
    const stack: { id: string; i: number }[] = [{ id: start.id, i: 0 }];
    state.set(start.id, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ds = deps.get(top.id)!;
      if (top.i < ds.length) {
        const d = ds[top.i++]!;
        if (!state.has(d)) {
          state.set(d, 1);
          stack.push({ id: d, i: 0 });
        }
        continue;
      }
      let l = 0;
      for (const d of ds) if (state.get(d) === 2) l = Math.max(l, (layer.get(d) ?? 0) + 1);
      layer.set(top.id, l);
      state.set(top.id, 2);
      stack.pop();
    }
  }

  const layers: string[][] = [];
  for (const n of nodes) {
    if (!linked.has(n.id)) continue;
    const l = layer.get(n.id) ?? 0;
    (layers[l] ??= []).push(n.id);
  }
  for (let i = 0; i < layers.length; i++) layers[i] ??= [];

  // Barycenter ordering: a forward then a backward sweep.
  const order = new Map<string, number>();
  const setOrder = (ls: string[]) => ls.forEach((id, i) => order.set(id, i));
  layers.forEach(setOrder);
  const sweep = (ls: string[]) => {
    const bary = new Map<string, number>();
    for (const id of ls) {
      const ns = neighbours.get(id)!.filter((n) => order.has(n));
      bary.set(id, ns.length > 0 ? ns.reduce((s, n) => s + order.get(n)!, 0) / ns.length : order.get(id)!);
    }
    ls.sort((a, b) => bary.get(a)! - bary.get(b)!);
    setOrder(ls);
  };
  for (let i = 1; i < layers.length; i++) sweep(layers[i]!);
  for (let i = layers.length - 2; i >= 0; i--) sweep(layers[i]!);

  const maxRows = o.maxRows ?? Math.max(6, Math.ceil(Math.sqrt(nodes.length)));
  const positions = new Map<string, Placed>();
  let col = 0;
  let height = 0;
  for (const ls of layers) {
    const cols = Math.max(1, Math.ceil(ls.length / maxRows));
    ls.forEach((id, i) => {
      const c = Math.floor(i / maxRows);
      const r = i % maxRows;
      positions.set(id, { x: (col + c) * (o.width + o.gapX), y: r * (o.height + o.gapY) });
    });
    height = Math.max(height, Math.min(ls.length, maxRows) * (o.height + o.gapY) - o.gapY);
    col += cols;
  }

  // Isolated nodes: a grid after the layered part.
  const isolated = nodes.filter((n) => !linked.has(n.id));
  const gridCols = Math.max(1, Math.ceil(isolated.length / maxRows));
  const gridStart = col + (col > 0 && isolated.length > 0 ? 0.5 : 0);
  isolated.forEach((n, i) => {
    positions.set(n.id, { x: (gridStart + (i % gridCols)) * (o.width + o.gapX), y: Math.floor(i / gridCols) * (o.height + o.gapY) });
  });
  if (isolated.length > 0) {
    height = Math.max(height, Math.ceil(isolated.length / gridCols) * (o.height + o.gapY) - o.gapY);
    col = gridStart + gridCols;
  }
  const width = Math.max(0, col * (o.width + o.gapX) - o.gapX);
  return { positions, width, height: Math.max(0, height) };
}
