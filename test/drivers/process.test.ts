/** The driver contract against the process driver: host processes under the exit-recording wrapper. */
import { processDriver } from '../../edge-agent/drivers/process.js';
import { runDriverContract } from './contract.js';

runDriverContract({
  name: 'process',
  make: () => processDriver,
  exits: (code) => ({ argv: ['/bin/sh', '-c', `echo "hello from process: GREETING=$GREETING"; echo "a line on stderr" >&2; exit ${code}`] }),
  ticks: () => ({ argv: ['/bin/sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done'] }),
  ignoresTerm: () => ({ argv: ['/bin/sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done'] }),
  // dash doubles a string until the kernel stops it.
  grows: () => ({ argv: ['/bin/sh', '-c', 'x=0123456789abcdef; while true; do x="$x$x"; done'] }),
  exec: 'supported',
});
