// The set-up every end-to-end suite shares: one simulator for the suite, a temp folder, a
// config factory pointing the tap at the simulator, and a clean fault/request slate (and
// clock, if the suite pinned one) before each test.
import { ScarfSimulator, type SimOptions } from '../../sim/index.js';
import { suiteEnv, tmpDir, writeJson } from './tap.js';
import { TOKEN } from './token.js';

export interface SimSuite {
  readonly sim: ScarfSimulator;
  readonly dir: string;
  /** Writes a config file: token, owner, base_url of the simulator, the suite's settings, then `extra`. */
  config(extra?: Record<string, unknown>): string;
}

export function useSimulator(simOptions: SimOptions, settings: Record<string, unknown>, prefix = 'tap-scarf-test-'): SimSuite {
  let sim: ScarfSimulator | undefined;
  let dir = '';
  const suite: SimSuite = {
    get sim() {
      if (!sim) throw new Error("the simulator starts in the suite's before() hook");
      return sim;
    },
    get dir() {
      return dir;
    },
    config(extra = {}) {
      return writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, {
        api_token: simOptions.token ?? TOKEN,
        owner: 'acme-oss',
        base_url: suite.sim.url,
        ...settings,
        ...extra,
      });
    },
  };
  before(async () => {
    sim = new ScarfSimulator({ token: TOKEN, ...simOptions });
    await sim.start();
    dir = tmpDir(prefix);
  });
  after(async () => sim?.stop());
  beforeEach(() => {
    if (simOptions.now) suite.sim.setNow(simOptions.now);
    suite.sim.clearFaults();
    suite.sim.resetRequests();
  });
  return suite;
}

/**
 * For a suite that follows each window's STATE: lifts the checkpoint throttle's 10 s interval
 * (TAP_SCARF_STATE_INTERVAL_MS=0, read by every tap the suite spawns), leaving only its byte
 * rule, which lets a STATE through once the work since the last one outweighs it tenfold.
 */
export function useStateAfterEveryWindow(): void {
  // Given to the taps a test runs (spawned, or in process: test/helpers/in-process.ts), not to
  // this process's own code, which reads its options once (src/config/runtime-options.ts).
  before(() => {
    suiteEnv.TAP_SCARF_STATE_INTERVAL_MS = '0';
  });
  after(() => {
    delete suiteEnv.TAP_SCARF_STATE_INTERVAL_MS;
  });
}
