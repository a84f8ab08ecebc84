#!/usr/bin/env node
// The `skiff` executable: `master` runs the control plane, `broker-config` writes an external broker's config, `up` the quickstart, `migrate`/`restore`
// (and `backup` with a store flag) the offline state tools, everything else the
// CLI (dist/cli/main.js, built by `npm run build`). Process streams and Ctrl-C are wired here only.
const argv = process.argv.slice(2);

async function load(path) {
  try {
    return await import(path);
  } catch (err) {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(path.replace('../', ''))) {
      process.stderr.write(`error: ${path.replace('../', '')} is missing: build Skiff first with "npm run build"\n`);
      process.exit(1);
    }
    throw err;
  }
}

// After Ctrl-C (or SIGTERM) a command winds down through io.signal. A plain command gets `graceMs` to do so,
// and a second Ctrl-C exits at once. `skiff up` (`waitForStop`) is never cut short: it stops the agent, its
// pods and the master and waits for them (each step has its own deadline), so further signals only say so.
function processIO(graceMs = 1000, waitForStop = false) {
  const abort = new AbortController();
  const onSignal = (code) => () => {
    if (abort.signal.aborted) {
      if (!waitForStop) process.exit(code);
      process.stderr.write('still stopping: waiting for the agent, its pods and the master to end\n');
      return;
    }
    abort.abort();
    // Streams end on the abort; a command still waiting on a single answer is not kept alive for it.
    if (!waitForStop) setTimeout(() => process.exit(code), graceMs).unref();
  };
  process.on('SIGINT', onSignal(130));
  process.on('SIGTERM', onSignal(143));
  // `skiff get pods | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    readStdin: async () => {
      const chunks = [];
      for await (const c of process.stdin) chunks.push(c);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    signal: abort.signal,
    isTTY: process.stdout.isTTY === true,
    // Made on first use: only `exec -i/-t` touches the process's stdin and the terminal's modes.
    get terminal() {
      return {
        input: process.stdin,
        isTTY: process.stdin.isTTY === true,
        setRawMode: (on) => process.stdin.isTTY && process.stdin.setRawMode(on),
        write: (data, done) => void process.stdout.write(data, () => done()),
        writeErr: (data) => void process.stderr.write(data),
        size: () => (process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined),
        onResize: (fn) => {
          process.stdout.on('resize', fn);
          return () => process.stdout.off('resize', fn);
        },
      };
    },
  };
}

if (argv[0] === 'master') {
  const { main } = await load('../dist/master/main.js');
  await main(argv.slice(1));
} else if (argv[0] === 'migrate' || argv[0] === 'restore' || (argv[0] === 'backup' && argv.some((a) => /^--(data-dir|store)(=|$)/.test(a)))) {
  // The offline state tools open a store themselves; `skiff backup FILE` alone asks the master.
  const { main } = await load('../dist/master/state-tools.js');
  process.exitCode = await main(argv, processIO());
} else if (argv[0] === 'broker-config') {
  const { main } = await load('../dist/master/external/broker-config.js');
  process.exitCode = await main(argv.slice(1), (s) => void process.stdout.write(s), (s) => void process.stderr.write(s));
} else if (argv[0] === 'up') {
  const { main } = await load('../dist/cli/up.js');
  process.exitCode = await main(argv.slice(1), processIO(0, true));
} else {
  const { main } = await load('../dist/cli/main.js');
  process.exitCode = await main(argv, processIO());
}
