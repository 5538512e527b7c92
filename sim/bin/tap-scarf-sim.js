#!/usr/bin/env node
// The simulator's command, `tap-scarf-sim --port 8787` (sim/README.md): this package's bin, and
// tap-scarf's too, so trying it without a Scarf account (README "Install") works after
// `npm install -g`.
// The root build compiles the simulator into the repository's dist/sim; the root package's
// launcher finds it there (in a checkout and in an installed copy alike) or says to build.
import { load } from '../../bin/launch.js';

await load('dist/sim/cli.js');
