// Registers ts-loader.mjs: `node --import ./test/store/register-ts.mjs script.mjs`.
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
