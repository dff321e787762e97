/** Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists where the time went. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CostLine {
  /** `function (file:line)`, or a V8 pseudo-frame such as `(garbage collector)`. */
  frame: string;
  /** Share of all samples, 0..1. */
  share: number;
  ms: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url.includes('node_modules/')
    ? url.slice(url.lastIndexOf('node_modules/') + 'node_modules/'.length)
    : path.basename(url);
  return `${name} (${file}:${lineNumber + 1})`;
}

/** Self time per frame, largest first; `(idle)` is left out of the shares. */
export async function selfTimes(file: string, top = 20): Promise<CostLine[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const frame = label(node);
    if (frame === '(idle)') return;
    const dt = profile.timeDeltas[i] ?? 0;
    busy += dt;
    totals.set(frame, (totals.get(frame) ?? 0) + dt);
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, share: us / busy, ms: us / 1000 }));
}

/** Self time of the frames named `functionName`, by the chain of callers above them. */
export async function callers(
  file: string,
  functionName: string,
  depth = 6,
  top = 5,
): Promise<Array<{ chain: string; ms: number }>> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const chains = new Map<string, number>();
  for (const node of profile.nodes) {
    if (node.callFrame.functionName !== functionName) continue;
    const names: string[] = [];
    for (
      let id = parent.get(node.id);
      id !== undefined && names.length < depth;
      id = parent.get(id)
    ) {
      const above = byId.get(id);
      if (above) names.push(label(above));
    }
    const chain = names.join(' < ');
    chains.set(chain, (chains.get(chain) ?? 0) + (self.get(node.id) ?? 0));
  }
  return [...chains]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([chain, us]) => ({ chain, ms: us / 1000 }));
}

/** Busy and idle time of the whole profile, in milliseconds. */
export async function busyIdle(file: string): Promise<{ busyMs: number; idleMs: number }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const idle = new Set(
    profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
  );
  let busyMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (idle.has(id)) idleMs += ms;
    else busyMs += ms;
  });
  return { busyMs, idleMs };
}
