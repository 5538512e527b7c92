// A throw-away Meltano project for the ecosystem suite and the bench: tap-scarf added the way
// a user adds it (`meltano add --plugin-type extractor tap-scarf --from-ref meltano/tap-scarf.yml`),
// with pip_url pointing at this checkout's python/ folder instead of the git URL, and the
// loaders and mapper pinned here (each gets a venv of its own under .meltano/, made by uv).
import fs from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import { repoRoot, tmpDir } from '../../helpers/tap.js';
import { type ProgramRun, runProgram, tail } from './python.js';

/** The plugins besides tap-scarf, pinned: a new release changes what CI tests only by a commit here. */
export const PLUGIN_PINS = {
  'target-jsonl': 'target-jsonl==0.1.4',
  'target-postgres': 'meltanolabs-target-postgres==0.8.1',
  'meltano-map-transformer': 'meltano-map-transform==0.12.3',
} as const;

export interface MeltanoProjectOptions {
  /** .pyenvs/meltano/bin */
  bin: string;
  /** tap-scarf's config in meltano.yml (the token goes in TAP_SCARF_API_TOKEN). */
  tapConfig: Record<string, unknown>;
  token: string;
  /** target-postgres' connection; its password goes in TARGET_POSTGRES_PASSWORD. */
  postgres?: { host: string; port: number; user: string; password: string; database: string };
  /** Extra plugins, merged into meltano.yml's `plugins` after tap-scarf is added. */
  plugins?: Record<string, unknown[]>;
}

export class MeltanoProject {
  readonly dir: string;
  readonly env: Record<string, string | undefined>;
  private readonly bin: string;

  private constructor(dir: string, bin: string, env: Record<string, string | undefined>) {
    this.dir = dir;
    this.bin = bin;
    this.env = env;
  }

  /** Creates the project and adds tap-scarf from the plugin definition (which installs it). */
  static async create(opts: MeltanoProjectOptions): Promise<MeltanoProject> {
    const dir = tmpDir('tap-scarf-meltano-');
    fs.writeFileSync(
      path.join(dir, 'meltano.yml'),
      yaml.dump({
        default_environment: 'dev',
        project_id: 'tap-scarf-ecosystem',
        send_anonymous_usage_stats: false,
        venv: { backend: 'uv' },
        environments: [{ name: 'dev' }],
      }),
    );
    // The repository's definition, with pip_url swapped for this checkout's package.
    const definition = fs
      .readFileSync(path.join(repoRoot, 'meltano', 'tap-scarf.yml'), 'utf8')
      .replace(/^pip_url: .*$/m, `pip_url: ${path.join(repoRoot, 'python')}`);
    if (!definition.includes(path.join(repoRoot, 'python'))) throw new Error('meltano/tap-scarf.yml has no pip_url line');
    fs.writeFileSync(path.join(dir, 'tap-scarf.yml'), definition);
    const env: Record<string, string | undefined> = {
      // Only the Meltano venv: no Node.js (nor anything else of this machine's) for the plugins to find.
      PATH: opts.bin,
      VIRTUAL_ENV: undefined,
      MELTANO_SEND_ANONYMOUS_USAGE_STATS: 'false',
      MELTANO_DISABLE_TRACKING: 'true',
      DO_NOT_TRACK: '1',
      // uv's cache is shared by every project (and by scripts/python-env.sh): installs take seconds.
      TAP_SCARF_API_TOKEN: opts.token,
      TARGET_POSTGRES_PASSWORD: opts.postgres?.password,
      NO_COLOR: '1',
      MELTANO_CLI_LOG_LEVEL: 'info',
    };
    const project = new MeltanoProject(dir, opts.bin, env);
    await project.ok(['add', '--plugin-type', 'extractor', 'tap-scarf', '--from-ref', './tap-scarf.yml']);
    const doc = yaml.load(fs.readFileSync(path.join(dir, 'meltano.yml'), 'utf8')) as Record<string, any>;
    const tap = doc.plugins.extractors.find((e: { name: string }) => e.name === 'tap-scarf');
    tap.config = opts.tapConfig;
    for (const [type, list] of Object.entries(opts.plugins ?? {})) doc.plugins[type] = [...(doc.plugins[type] ?? []), ...list];
    fs.writeFileSync(path.join(dir, 'meltano.yml'), yaml.dump(doc));
    return project;
  }

  /** `meltano <args>` in the project. */
  meltano(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 600_000): Promise<ProgramRun> {
    return runProgram(path.join(this.bin, 'meltano'), args, { cwd: this.dir, env: { ...this.env, ...env }, timeoutMs });
  }

  /** `meltano <args>`, which must exit 0. */
  async ok(args: string[], env: Record<string, string | undefined> = {}): Promise<ProgramRun> {
    const run = await this.meltano(args, env);
    if (run.code !== 0) throw new Error(`meltano ${args.join(' ')} failed:\n${tail(run)}`);
    return run;
  }

  /** The state Meltano stores for a state id (`meltano state get`). */
  async state(stateId: string): Promise<Record<string, any>> {
    const run = await this.ok(['state', 'get', stateId]);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
  }

  /** Sets tap-scarf's config keys in meltano.yml (what `meltano config set` writes there). */
  setTapConfig(values: Record<string, unknown>, plugin = 'tap-scarf'): void {
    const file = path.join(this.dir, 'meltano.yml');
    const doc = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, any>;
    const tap = doc.plugins.extractors.find((e: { name: string }) => e.name === plugin);
    tap.config = { ...tap.config, ...values };
    fs.writeFileSync(file, yaml.dump(doc));
  }

  /** Lines of every JSON Lines file target-jsonl wrote for a stream under `folder`. */
  jsonlRecords(folder: string, stream: string): Record<string, any>[] {
    const dir = path.join(this.dir, folder);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(`${stream}-`) && f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) =>
        fs
          .readFileSync(path.join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, any>),
      );
  }
}
