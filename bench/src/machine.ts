import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** The machine a result was measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the scenario started: a shared machine shows it here. */
  load: number;
  /** 1-minute load average when the scenario ended. */
  loadEnd?: number;
  curl: string;
}

export function machineInfo(): MachineInfo {
  let curl = 'unknown';
  try {
    curl = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split(' ', 2)[1] ?? curl;
  } catch {
    // curl missing: scenario 1 fails with its own message
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    load: loadNow(),
    curl,
  };
}

/** The 1-minute load average now, rounded for the docs. */
export function loadNow(): number {
  return Number(os.loadavg()[0]?.toFixed(2));
}

export function describeMachine(m: MachineInfo): string {
  const load = m.loadEnd === undefined ? '' : `, ${m.loadEnd} at end`;
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; curl ${m.curl}; load ${m.load} at start${load} (1-minute average)`;
}
