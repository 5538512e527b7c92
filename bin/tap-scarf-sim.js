#!/usr/bin/env node
// The Scarf API simulator (sim/README.md) from an installed copy: `tap-scarf-sim --port 8787`,
// so the README's "try it without a Scarf account" works after `npm install -g`.
import { load } from './launch.js';

await load('dist/sim/cli.js');
