/** The driver contract against the wasi driver: the test module (test/fixtures/wasi/hello.ts) under node:wasi in a child process. */
import { wasiDriver } from '../../edge-agent/drivers/wasi/driver.js';
import { helloWasm } from '../helpers/wasi.js';
import { runDriverContract } from './contract.js';

const image = async () => `file://${await helloWasm()}`;

runDriverContract({
  name: 'wasi',
  make: (dataDir) => wasiDriver({ dataDir }),
  exits: async (code) => ({ image: await image(), argv: ['exit', String(code)] }),
  ticks: async () => ({ image: await image(), argv: ['ticks'] }),
  grows: async () => ({ image: await image(), argv: ['grow'] }),
  exec: 'refused',
});
