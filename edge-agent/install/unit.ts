/**
 * What `skiff-agent flash` and `install` put on a board: the paths (absolute, inside the board) and the systemd
 * unit. The unit runs the board's own /usr/bin/node on the bundle.
 *
 * Why these settings (docs/edge.md, "The systemd unit"):
 * - `KillMode=process`: `systemctl stop/restart` and an upgrade signal the agent only. Pods run in the unit's
 *   cgroup (systemd puts every descendant there, setsid or not), so the default `control-group` would SIGKILL
 *   every pod on each agent restart, and adoption (docs/lifecycle.md) would find nothing to adopt.
 * - `Restart=always` + `SKIFF_AGENT_RESTART=exit`: the agent exits 75 to restart into an upgrade
 *   (upgrade/restart.ts) and systemd starts it again; a crash restarts it the same way.
 * - `OOMPolicy=continue`: a pod killed by the kernel's OOM killer must not stop the whole unit (the default
 *   `stop` would). `TasksMax=infinity`: pods count against the unit's task limit. `Delegate=yes`: the agent
 *   may create cgroups for its pods below its own.
 * - No `ProtectSystem`, `PrivateTmp`, `ProtectHome`, `NoNewPrivileges`, `MemoryDenyWriteExecute`: pods inherit the
 *   agent's sandbox, and a process pod expects the board as it is (kubelet's unit is unconfined for the same
 *   reason). The secrets are protected by their modes instead: the token file and the data dir are root's, 0600/0700.
 */

/** Where things live on a board (absolute paths inside its root filesystem). */
export const boardPaths = {
  node: '/usr/bin/node',
  libDir: '/usr/local/lib/skiff',
  bundle: '/usr/local/lib/skiff/skiff-agent.mjs',
  configDir: '/etc/skiff',
  tokenFile: '/etc/skiff/join.token',
  dataDir: '/var/lib/skiff-agent',
  unit: '/etc/systemd/system/skiff-agent.service',
  wants: '/etc/systemd/system/multi-user.target.wants/skiff-agent.service',
  hostname: '/etc/hostname',
  hosts: '/etc/hosts',
} as const;

/** The unit's name for systemctl. */
export const UNIT_NAME = 'skiff-agent.service';

/** What the unit's command line says. */
export interface UnitSettings {
  master: string;
  /** Node name (--name); absent: the board's hostname at start. */
  name?: string;
  labels?: Record<string, string>;
}

/** systemd's quoting for one ExecStart word (systemd.service(5)): `%` is a specifier, `$` a variable, `"` and `\\` escaped. */
function quote(word: string): string {
  const w = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(w)) return w;
  return `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The agent's command line in the unit. */
export function execStart(s: UnitSettings): string[] {
  const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return [
    boardPaths.node, boardPaths.bundle, 'join',
    '--master', s.master,
    '--token-file', boardPaths.tokenFile,
    '--data-dir', boardPaths.dataDir,
    ...(s.name ? ['--name', s.name] : []),
    ...(labels ? ['--labels', labels] : []),
  ];
}

/** The unit file's text. */
export function unitText(s: UnitSettings): string {
  return `# Written by skiff-agent flash/install. The agent joins the master on first boot (docs/edge.md).
[Unit]
Description=Skiff edge agent
Wants=network-online.target
After=network-online.target time-sync.target

[Service]
Type=simple
ExecStart=${execStart(s).map(quote).join(' ')}
# Restart into an upgrade by exiting (upgrade/restart.ts), and after a crash.
Environment=SKIFF_AGENT_RESTART=exit
Restart=always
RestartSec=2
# Stop the agent only: its pods keep running and the next start adopts them (docs/lifecycle.md).
KillMode=process
TimeoutStopSec=30
# A pod's OOM kill is the pod's business; pods count against the unit's tasks; the agent owns its cgroup subtree.
OOMPolicy=continue
TasksMax=infinity
Delegate=yes
LimitNOFILE=65536
StateDirectory=skiff-agent
StateDirectoryMode=0700
SyslogIdentifier=skiff-agent

[Install]
WantedBy=multi-user.target
`;
}
