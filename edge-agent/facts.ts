/**
 * What the agent reads off its board: facts, capacity, allocatable, addresses, node conditions.
 *
 * Allocatable = capacity minus a reserve for the OS and the agent itself (Kubernetes' system-reserved):
 * cpu 100m (at most half a core's worth on tiny boards), memory 5% of RAM but at least 64 Mi and at most 512 Mi.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NodeFacts, NodeStatusMessage } from '../protocol/messages.js';
import type { Condition, NodeResources } from '../protocol/types.js';
import { formatCpu } from '../protocol/quantity.js';
import { resourceLimitsCondition, wasmBalancerCondition } from '../protocol/conditions.js';
import type { AgentConfig } from './config.js';
import type { BalancerEngine } from './proxy/balancer.js';
import { AGENT_VERSION } from './version.js';

const archNames: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const MAX_PODS = 110; // the kubelet's default --max-pods
const CPU_RESERVE_MILLI = 100;
const MEM_RESERVE_MIN = 64 * 2 ** 20;
const MEM_RESERVE_MAX = 512 * 2 ** 20;

/** Reads `PRETTY_NAME` from /etc/os-release when there is one. */
function osImage(): string | undefined {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The board's model: the device tree's `model` (every Raspberry Pi and most ARM boards:
 * `Raspberry Pi 4 Model B Rev 1.4`), else the PC's DMI product name; undefined when neither is readable.
 */
export function boardModel(): string | undefined {
  for (const f of ['/proc/device-tree/model', '/sys/firmware/devicetree/base/model', '/sys/class/dmi/id/product_name']) {
    try {
      const m = fs.readFileSync(f, 'utf8').replace(/\u0000/g, '').trim();
      if (m) return m.slice(0, 128);
    } catch {
      // not this kind of board
    }
  }
  return undefined;
}

/**
 * `v2` when /sys/fs/cgroup is the unified hierarchy (it has cgroup.controllers: Raspberry Pi OS Bookworm, current
 * Debian), `v1` for v1 or hybrid hierarchies (a `memory` controller mounted, or an empty v2 tree under `unified`),
 * `none` without cgroups.
 */
export function cgroupVersion(root = '/'): string {
  const cg = path.join(root, 'sys/fs/cgroup');
  if (fs.existsSync(path.join(cg, 'cgroup.controllers'))) return 'v2';
  if (fs.existsSync(path.join(cg, 'memory')) || fs.existsSync(path.join(cg, 'unified'))) return 'v1';
  return 'none';
}

/** The board's facts (read at every status: they are few small files, and a status is sent on connect only). */
export function readFacts(): NodeFacts {
  return {
    hostname: os.hostname(),
    arch: archNames[process.arch] ?? process.arch,
    os: process.platform,
    kernel: os.release(),
    osImage: osImage(),
    cpus: Math.max(1, os.cpus().length),
    memoryBytes: os.totalmem(),
    agentVersion: AGENT_VERSION,
    nodeVersion: process.version,
    boardModel: boardModel(),
    cgroupVersion: cgroupVersion(),
  };
}

/** Capacity in Kubernetes quantities: `{cpu: "4", memory: "3906252Ki", pods: "110"}`. */
export function capacityOf(f: NodeFacts): NodeResources {
  return { cpu: String(f.cpus), memory: `${Math.floor(f.memoryBytes / 1024)}Ki`, pods: String(MAX_PODS) };
}

/** Capacity minus the system reserve documented at the top of this file. */
export function allocatableOf(f: NodeFacts): NodeResources {
  const cpuMilli = f.cpus * 1000 - Math.min(CPU_RESERVE_MILLI, f.cpus * 500);
  const memReserve = Math.min(MEM_RESERVE_MAX, Math.max(MEM_RESERVE_MIN, Math.floor(f.memoryBytes * 0.05)));
  return { cpu: formatCpu(cpuMilli), memory: `${Math.floor(Math.max(0, f.memoryBytes - memReserve) / 1024)}Ki`, pods: String(MAX_PODS) };
}

/** WasmBalancer: True when the proxy's balancers run in WebAssembly; False, with the reason, when they run the TS twin. */
export function balancerCondition(engine: BalancerEngine, t: string): Condition {
  return engine.impl === 'wasm'
    ? { type: wasmBalancerCondition, status: 'True', reason: 'WasmLoaded', message: 'service proxy balancers run in WebAssembly', lastHeartbeatTime: t }
    : { type: wasmBalancerCondition, status: 'False', reason: 'ReferenceBalancers', message: `${engine.reason ?? 'not wasm'}; the proxy runs the TypeScript reference balancers (same picks, slower)`, lastHeartbeatTime: t };
}

/** What the agent knows of its resource limits: enforced (through which cgroups), or why not and the fix. */
export interface LimitsSupport {
  ok: boolean;
  reason: string;
  message: string;
}

/** ResourceLimits: True when pod limits are enforced through cgroups; False, with the reason and the fix, when pods run unlimited. */
export function limitsCondition(l: LimitsSupport, t: string): Condition {
  return { type: resourceLimitsCondition, status: l.ok ? 'True' : 'False', reason: l.reason, message: l.message, lastHeartbeatTime: t };
}

/** Agent-side node conditions. MemoryPressure is True below 5% available memory; ResourceLimits; WasmBalancer when there is a proxy. */
export function nodeConditions(now = new Date(), balancer?: BalancerEngine, limits?: LimitsSupport): Condition[] {
  const t = now.toISOString();
  const avail = os.freemem() / os.totalmem();
  return [
    { type: 'Ready', status: 'True', reason: 'AgentReady', message: 'skiff-agent is posting ready status', lastHeartbeatTime: t },
    { type: 'MemoryPressure', status: avail < 0.05 ? 'True' : 'False', reason: avail < 0.05 ? 'AgentHasMemoryPressure' : 'AgentHasSufficientMemory', lastHeartbeatTime: t },
    ...(limits ? [limitsCondition(limits, t)] : []),
    ...(balancer ? [balancerCondition(balancer, t)] : []),
  ];
}

/**
 * The retained `nodes/{node}/status` message of an online agent; `extra`: further agent conditions (AgentUpgrade);
 * `containerRuntime`: the engine that answered (`podman://4.3.1`).
 */
export function onlineStatus(cfg: AgentConfig, runtimes: string[], balancer?: BalancerEngine, limits?: LimitsSupport, extra: Condition[] = [], containerRuntime?: string): NodeStatusMessage {
  const facts = readFacts();
  return {
    node: cfg.name,
    online: true,
    ts: Date.now(),
    facts,
    capacity: capacityOf(facts),
    allocatable: allocatableOf(facts),
    labels: {
      'kubernetes.io/hostname': cfg.name,
      'kubernetes.io/arch': facts.arch,
      'kubernetes.io/os': facts.os,
      ...cfg.labels,
    },
    addresses: [
      { type: 'InternalIP', address: cfg.address },
      { type: 'Hostname', address: facts.hostname },
    ],
    runtimes,
    ...(containerRuntime ? { containerRuntime } : {}),
    conditions: [...nodeConditions(new Date(), balancer, limits), ...extra],
    volumeDir: cfg.volumeDir,
  };
}
