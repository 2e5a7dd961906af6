/**
 * `npm run exp:hostile`: a corpus of hostile inputs (bad and overflowing
 * numbers, broken JSON, corrupt policies and checkpoints, unwritable outputs,
 * bad flags) run against every command, each as a child process with a 60 s
 * limit. Prints how each run ended (clean / stack trace / hang / wrong result
 * / unclear, see experiments/hostile-check.ts) and the cases that were not
 * clean. Not a test: it takes a minute or two; the fuzz test in the suite
 * (bin/fuzz.test.ts) is its fast sibling.
 *
 *   node dist/experiments/hostile.js [--bin dist/bin/placer.js] [--only WORD] [--timeout 60] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classify, runCli, type Expectation, type Outcome, type RunRecord } from './hostile-check.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const BIN = resolve(arg('--bin') ?? join(ROOT, 'dist', 'bin', 'placer.js'));
const TIMEOUT_S = Number(arg('--timeout') ?? 60);
const ONLY = arg('--only');

interface Case extends Expectation {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Runs before the command (e.g. a first training to corrupt). */
  before?: () => Promise<void>;
  /** Runs the case itself instead of `placer args` (a kill, then a resume). */
  run?: () => Promise<RunRecord>;
}

const work = mkdtempSync(join(tmpdir(), 'placer-hostile-'));
let counter = 0;
const fresh = (label: string) => {
  const dir = join(work, `${label}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const LAYERS = 'name,param_bytes,activation_bytes\na,1000000,2000000\nb,2000000,1000000\nc,500000,10\n';
const DEVICES = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,1,4,1e9,1e9\ngpu,3,2,1e9,1e10\n';
const PROFILE = 'layer,type,forward_ms,backward_ms\na,cpu,10,20\na,gpu,1,2\nb,cpu,20,40\nb,gpu,2,4\nc,cpu,5,10\nc,gpu,1,1\n';

/** A problem folder with the three CSVs (any of them overridden); returns its flags. */
function problem(overrides: { layers?: string; devices?: string; profile?: string } = {}) {
  const dir = fresh('problem');
  const files = { layers: join(dir, 'layers.csv'), devices: join(dir, 'devices.csv'), profile: join(dir, 'profile.csv') };
  writeFileSync(files.layers, overrides.layers ?? LAYERS);
  writeFileSync(files.devices, overrides.devices ?? DEVICES);
  writeFileSync(files.profile, overrides.profile ?? PROFILE);
  return { dir, files, args: ['--layers', files.layers, '--devices', files.devices, '--profile', files.profile] };
}

function placementFile(stages: unknown, extra: Record<string, unknown> = {}): string {
  const file = join(fresh('placement'), 'placement.json');
  writeFileSync(file, JSON.stringify({ stages, ...extra }));
  return file;
}

const stage = (type: string, first: string, last: string, replicas: unknown = 1) => ({ type, firstLayer: first, lastLayer: last, replicas });

/** A problem only one placement fits (all 30 layers on the one cheap unit): random sampling never finds it. */
function needleProblem() {
  const names = Array.from({ length: 30 }, (_, i) => `l${i}`);
  return problem({
    layers: `name,param_bytes,activation_bytes\n${names.map((n) => `${n},1000,1000`).join('\n')}\n`,
    devices: 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncheap,1,1,1e9,1e9\ndear,3,4,1e9,1e9\n',
    profile: `layer,type,forward_ms,backward_ms\n${names.flatMap((n) => [`${n},cheap,1,2`, `${n},dear,1,2`]).join('\n')}\n`,
  });
}

/** A bundled-problem folder with this problem.json, removed at the end. */
const bundledTemporaries: string[] = [];
function bundledWith(problemJson: string): string {
  const name = `hostile-tmp-${process.pid}-${counter++}`;
  const dir = join(ROOT, 'profiles', 'problems', name);
  cpSync(join(ROOT, 'profiles', 'problems', 'toy'), dir, { recursive: true });
  writeFileSync(join(dir, 'problem.json'), problemJson);
  bundledTemporaries.push(dir);
  return name;
}

const said = (pattern: RegExp, why: string) => (run: RunRecord) => (pattern.test(run.stdout + run.stderr) ? why : undefined);

function csvCases(): Case[] {
  const cases: Case[] = [];
  const bad = (name: string, file: 'layers' | 'devices' | 'profile', text: string, mentions: string[] = []) => {
    const p = problem({ [file]: text });
    for (const command of ['evaluate', 'solve']) {
      const extra = command === 'evaluate' ? ['--assignment', 'gpu,gpu,cpu', '--json'] : ['--out', join(p.dir, 'out')];
      cases.push({ name: `${command}: ${name}`, args: [command, ...p.args, ...extra], expect: 'reject', mentions: [`${file}.csv`, ...mentions], outDirs: [join(p.dir, 'out')] });
    }
  };
  const dev = (row: string) => `type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n${row}\ngpu,3,2,1e9,1e10\n`;
  bad('count 3e9', 'devices', dev('cpu,1,3e9,1e9,1e9'), ['row 2', 'count']);
  bad('count 1e20', 'devices', dev('cpu,1,1e20,1e9,1e9'), ['row 2', 'count']);
  bad('count 4294967297', 'devices', dev('cpu,1,4294967297,1e9,1e9'), ['row 2', 'count']);
  bad('price 1e308', 'devices', dev('cpu,1e308,4,1e9,1e9'), ['row 2', 'price_per_hour']);
  bad('memory 1e300', 'devices', dev('cpu,1,4,1e300,1e9'), ['row 2', 'memory_bytes']);
  bad('bandwidth 1e-300', 'devices', dev('cpu,1,4,1e9,1e-300'), ['row 2', 'bandwidth_bytes_per_s']);
  bad('price hex', 'devices', dev('cpu,0x10,4,1e9,1e9'), ['row 2', 'price_per_hour']);
  bad('count Infinity', 'devices', dev('cpu,1,Infinity,1e9,1e9'), ['row 2', 'count']);
  bad('count -1', 'devices', dev('cpu,1,-1,1e9,1e9'), ['row 2', 'count']);
  bad('count 1.5', 'devices', dev('cpu,1,1.5,1e9,1e9'), ['row 2', 'count']);
  bad('empty price', 'devices', dev('cpu,,4,1e9,1e9'), ['row 2', 'price_per_hour']);
  bad('duplicate count column', 'devices', 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,count\ncpu,1,4,1e9,1e9,3e9\ngpu,3,2,1e9,1e10,2\n', ['count']);
  bad('duplicate type', 'devices', dev('gpu,1,4,1e9,1e9'), ['row 3']);
  bad('quoted newline then a bad cell', 'devices', 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n"c\npu",1,4,1e9,1e9\ngpu,x,2,1e9,1e10\n', ['row 4', 'price_per_hour']);
  bad('ragged row', 'devices', 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,1,4\ngpu,3,2,1e9,1e10\n', ['row 2']);
  bad('unclosed quote', 'devices', 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n"cpu,1,4,1e9,1e9\n');
  bad('empty file', 'devices', '');
  bad('header only', 'devices', 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n');
  bad('binary garbage', 'devices', '\u0000\u0001\u0002\uffff,,,\n\u0000');
  bad('forward 1e308', 'profile', 'layer,type,forward_ms,backward_ms\na,cpu,1e308,20\na,gpu,1,2\nb,cpu,20,40\nb,gpu,2,4\nc,cpu,5,10\nc,gpu,1,1\n', ['row 2', 'forward_ms']);
  bad('backward NaN', 'profile', 'layer,type,forward_ms,backward_ms\na,cpu,1,NaN\na,gpu,1,2\nb,cpu,20,40\nb,gpu,2,4\nc,cpu,5,10\nc,gpu,1,1\n', ['row 2', 'backward_ms']);
  bad('unknown layer', 'profile', `${PROFILE}zz,cpu,1,1\n`, ['row 8', 'layer']);
  bad('param bytes 1e30', 'layers', 'name,param_bytes,activation_bytes\na,1e30,2000000\nb,2000000,1000000\nc,500000,10\n', ['row 2', 'param_bytes']);
  bad('activation bytes 1e300', 'layers', 'name,param_bytes,activation_bytes\na,1,1e300\nb,2000000,1000000\nc,500000,10\n', ['row 2', 'activation_bytes']);
  bad('duplicate name column', 'layers', 'name,param_bytes,activation_bytes,name\na,1,1,x\nb,1,1,y\nc,1,1,z\n', ['name']);
  // Large but legal values still give a result with finite figures.
  const big = problem({ devices: dev('cpu,1e6,1000000,1e18,1e18') });
  cases.push({ name: 'evaluate: large legal values', args: ['evaluate', ...big.args, '--assignment', 'cpu,cpu,gpu', '--json'], expect: 'ok' });
  // Missing and unreadable files.
  const p = problem();
  cases.push({ name: 'evaluate: layers file missing', args: ['evaluate', '--layers', join(p.dir, 'nope.csv'), '--devices', p.files.devices, '--profile', p.files.profile, '--assignment', 'a'], expect: 'reject', mentions: ['nope.csv'] });
  cases.push({ name: 'evaluate: layers is a directory', args: ['evaluate', '--layers', p.dir, '--devices', p.files.devices, '--profile', p.files.profile, '--assignment', 'a'], expect: 'reject', mentions: [p.dir] });
  return cases;
}

function placementCases(): Case[] {
  const p = problem();
  const cases: Case[] = [];
  const bad = (name: string, file: string, mentions: string[] = [], expect: Case['expect'] = 'reject') =>
    cases.push({ name: `evaluate --placement: ${name}`, args: ['evaluate', ...p.args, '--placement', file, '--json'], expect, mentions });
  bad('replicas 3e9', placementFile([stage('gpu', 'a', 'b', 3e9), stage('cpu', 'c', 'c')]), ['replicas']);
  bad('replicas 1e20', placementFile([stage('gpu', 'a', 'b', 1e20), stage('cpu', 'c', 'c')]), ['replicas']);
  bad('replicas 0', placementFile([stage('gpu', 'a', 'b', 0), stage('cpu', 'c', 'c')]), ['replicas']);
  bad('replicas "2"', placementFile([stage('gpu', 'a', 'b', '2'), stage('cpu', 'c', 'c')]), ['replicas']);
  bad('replicas 1.5', placementFile([stage('gpu', 'a', 'b', 1.5), stage('cpu', 'c', 'c')]), ['replicas']);
  bad('unknown type', placementFile([stage('tpu', 'a', 'c')]), ['type']);
  bad('gap', placementFile([stage('gpu', 'a', 'a'), stage('cpu', 'c', 'c')]), ['firstLayer']);
  bad('stages missing', placementFile(undefined), ['stages']);
  bad('stages null items', placementFile([null]), ['stages[0]']);
  const dir = fresh('p');
  writeFileSync(join(dir, 'broken.json'), '{"stages": [');
  bad('broken JSON', join(dir, 'broken.json'), ['broken.json']);
  writeFileSync(join(dir, 'empty.json'), '');
  bad('empty file', join(dir, 'empty.json'), ['empty.json']);
  bad('a directory', dir, [dir]);
  bad('missing', join(dir, 'nope.json'), ['nope.json']);
  writeFileSync(join(dir, 'array.json'), '[1,2,3]');
  bad('an array', join(dir, 'array.json'), ['stages']);
  // More replicas than units: a result, infeasible (never feasible).
  bad('replicas 100 (over the count)', placementFile([stage('gpu', 'a', 'b', 100), stage('cpu', 'c', 'c')]), [], 'either');
  return cases;
}

function flagCases(): Case[] {
  const p = problem();
  const out = join(p.dir, 'out');
  const solve = (name: string, flags: string[], mentions: string[] = [], expect: Case['expect'] = 'reject'): Case => ({
    name: `solve: ${name}`,
    args: ['solve', ...p.args, '--out', out, ...flags],
    expect,
    mentions,
    outDirs: [out],
  });
  const file = join(p.dir, 'a-file');
  writeFileSync(file, 'x');
  return [
    solve('--budget 0x10', ['--budget', '0x10'], ['--budget']),
    solve('--budget -1', ['--budget', '-1'], ['--budget']),
    solve('--budget abc', ['--budget', 'abc'], ['--budget']),
    solve('--budget Infinity', ['--budget', 'Infinity'], ['--budget']),
    solve('--micro-batches 0x8', ['--micro-batches', '0x8'], ['--micro-batches']),
    solve('--micro-batches 0', ['--micro-batches', '0'], ['--micro-batches']),
    solve('--micro-batches 1e12', ['--micro-batches', '1e12'], ['--micro-batches']),
    solve('--seed 0', ['--seed', '0'], ['--seed']),
    solve('--evaluations -5', ['--method', 'random', '--evaluations', '-5'], ['--evaluations']),
    solve('--method banana', ['--method', 'banana'], ['--method']),
    solve('--objective banana', ['--objective', 'banana'], ['--objective']),
    solve('unknown flag', ['--frobnicate'], ['--frobnicate']),
    solve('missing flag value', ['--budget'], ['--budget']),
    solve('--time-limit -1', ['--time-limit', '-1'], ['--time-limit']),
    { name: 'solve: --problem ../x', args: ['solve', '--problem', '../toy/../toy', '--out', out], expect: 'reject', mentions: ['--problem'] },
    { name: 'solve: --problem a path', args: ['solve', '--problem', p.dir, '--out', out], expect: 'reject', mentions: ['--problem'] },
    { name: 'solve: --problem unknown', args: ['solve', '--problem', 'nope', '--out', out], expect: 'reject', mentions: ['nope'] },
    { name: 'solve: --out is a file', args: ['solve', ...p.args, '--out', file], expect: 'reject', mentions: [file] },
    { name: 'solve: --out under a file', args: ['solve', ...p.args, '--out', join(file, 'sub')], expect: 'reject', mentions: [file] },
    { name: 'solve: --out in /proc', args: ['solve', ...p.args, '--out', '/proc/placer-hostile'], expect: 'reject', mentions: ['/proc/placer-hostile'] },
    { name: 'unknown command', args: ['frobnicate'], expect: 'reject', mentions: ['frobnicate'] },
    { name: 'evaluate: both --assignment and --placement', args: ['evaluate', ...p.args, '--assignment', 'a', '--placement', 'b'], expect: 'reject' },
    { name: 'evaluate: --assignment of the wrong length', args: ['evaluate', ...p.args, '--assignment', 'gpu'], expect: 'reject', mentions: ['--assignment'] },
  ];
}

function problemJsonCases(): Case[] {
  const cases: Case[] = [];
  const bad = (name: string, json: string, mentions: string[]) => {
    const dir = fresh('pj');
    cases.push({ name: `problem.json: ${name}`, args: ['solve', '--problem', bundledWith(json), '--out', dir], expect: 'reject', mentions: ['problem.json', ...mentions], outDirs: [dir] });
  };
  bad('microBatches 0', '{"microBatches": 0}', ['microBatches']);
  bad('microBatches "8"', '{"microBatches": "8"}', ['microBatches']);
  bad('microBatches 1.5', '{"microBatches": 1.5}', ['microBatches']);
  bad('budget -1', '{"budget": -1}', ['budget']);
  bad('budget "cheap"', '{"budget": "cheap"}', ['budget']);
  bad('deadline 0', '{"objective": "cost", "deadline": 0}', ['deadline']);
  bad('objective banana', '{"objective": "banana"}', ['objective']);
  bad('not JSON', '{"budget": ', []);
  bad('an array', '[1]', []);
  return cases;
}

function randomCases(): Case[] {
  const needle = needleProblem();
  const out = join(needle.dir, 'out');
  const claimsNone = said(/No placement fits|smallest budget|No placement meets/, 'a heuristic that found nothing claims nothing exists / prints a smallest budget');
  return ['random', 'genetic', 'anneal'].map((method) => ({
    name: `solve --method ${method} that finds nothing`,
    args: ['solve', ...needle.args, '--budget', '1', '--method', method, '--evaluations', '200', '--out', join(out, method)],
    expect: 'either' as const,
    outDirs: [join(out, method)],
    wrong: (run: RunRecord) => {
      if (/"feasible": true|\bfeasible\n/.test(run.stdout)) return undefined; // found it: fine
      return claimsNone(run);
    },
  }));
}

function placer(args: string[], timeoutS = TIMEOUT_S, env: Record<string, string> = {}): Promise<RunRecord> {
  return runCli(BIN, args, timeoutS, env);
}

function trainCases(): Case[] {
  const cases: Case[] = [];
  const trained = fresh('trained');
  const ready = placer(['train', '--problem', 'toy', '--quick', '--no-progress', '--out', trained]);
  const corrupt = (name: string, what: (dir: string) => void, command: 'resume' | 'place', mentions: string[]) => {
    const dir = fresh('corrupt');
    const out = fresh('out');
    cases.push({
      name: `${command}: ${name}`,
      args: command === 'resume' ? ['train', '--resume', dir, '--problem', 'toy', '--quick', '--no-progress', '--out', out] : ['place', '--policy', join(dir, 'policy'), '--problem', 'toy', '--no-progress', '--out', out],
      expect: 'reject',
      mentions,
      outDirs: [out],
      before: async () => {
        await ready;
        cpSync(trained, dir, { recursive: true });
        what(dir);
      },
    });
  };
  const weights = (dir: string) => join(dir, 'policy', 'weights.bin');
  // The checkpoint's own copy of the policy where the layout has one (older layouts kept only DIR/policy).
  const checkpointWeights = (dir: string) => (existsSync(join(dir, 'checkpoint', 'policy')) ? join(dir, 'checkpoint', 'policy', 'weights.bin') : weights(dir));
  const optimizerWeights = (dir: string) => (existsSync(join(dir, 'checkpoint', 'optimizer')) ? join(dir, 'checkpoint', 'optimizer', 'weights.bin') : join(dir, 'checkpoint', 'weights.bin'));
  const state = (dir: string) => join(dir, 'checkpoint', 'state.json');
  corrupt('weights.bin truncated', (dir) => truncateSync(weights(dir), 10), 'place', ['weights.bin']);
  corrupt('weights.bin empty', (dir) => truncateSync(weights(dir), 0), 'place', ['weights.bin']);
  corrupt('weights.bin trailing bytes', (dir) => appendFileSync(weights(dir), Buffer.alloc(12)), 'place', ['weights.bin']);
  corrupt('model.json garbage', (dir) => writeFileSync(join(dir, 'policy', 'model.json'), '{"garbage": true}'), 'place', ['model.json']);
  corrupt('policy folder missing', (dir) => rmSync(join(dir, 'policy'), { recursive: true }), 'place', ['policy']);
  corrupt('weights.bin truncated', (dir) => truncateSync(checkpointWeights(dir), 10), 'resume', ['weights.bin']);
  corrupt('state.json without config', (dir) => {
    const json = JSON.parse(readFileSync(state(dir), 'utf8'));
    delete json.config;
    writeFileSync(state(dir), JSON.stringify(json));
  }, 'resume', ['state.json']);
  corrupt('state.json iteration "five"', (dir) => {
    const json = JSON.parse(readFileSync(state(dir), 'utf8'));
    json.iteration = 'five';
    if (json.state) json.state.iteration = 'five';
    writeFileSync(state(dir), JSON.stringify(json));
  }, 'resume', ['state.json']);
  corrupt('state.json not JSON', (dir) => writeFileSync(state(dir), '{"iteration": '), 'resume', ['state.json']);
  corrupt('state.json empty', (dir) => writeFileSync(state(dir), ''), 'resume', ['state.json']);
  corrupt('checkpoint folder missing', (dir) => rmSync(join(dir, 'checkpoint'), { recursive: true }), 'resume', [`checkpoint`]);
  corrupt('checkpoint weights.bin trailing bytes', (dir) => appendFileSync(optimizerWeights(dir), Buffer.alloc(8)), 'resume', ['weights.bin']);
  corrupt('policy one update ahead of state.json (mixed)', (dir) => {
    // Another save's policy beside this state.json: what a kill between two separate writes left.
    const other = join(dir, 'checkpoint', 'policy', 'weights.bin');
    if (existsSync(other)) writeFileSync(other, Buffer.from(readFileSync(other)).map((b, i) => (i % 97 === 0 ? b ^ 1 : b)));
    else writeFileSync(weights(dir), Buffer.from(readFileSync(weights(dir))).map((b, i) => (i % 97 === 0 ? b ^ 1 : b)));
  }, 'resume', ['weights.bin']);
  const missing = fresh('missing');
  cases.push({ name: 'resume: a folder that does not exist', args: ['train', '--resume', join(missing, 'nope'), '--quick', '--no-progress', '--out', fresh('o')], expect: 'reject', mentions: ['nope'] });
  // --resume DIR alone continues (the checkpoint names its problem).
  const alone = fresh('alone');
  cases.push({
    name: 'resume: DIR alone continues',
    args: ['train', '--resume', alone, '--iterations', '8', '--no-progress', '--out', alone],
    expect: 'ok',
    outDirs: [alone],
    before: async () => {
      await ready;
      cpSync(trained, alone, { recursive: true });
    },
    wrong: (run) => {
      const history = existsSync(join(alone, 'history.csv')) ? readFileSync(join(alone, 'history.csv'), 'utf8').trim().split('\n') : [];
      return run.code === 0 && history.length !== 9 ? `history.csv has ${history.length - 1} rows after resuming to 8 updates` : undefined;
    },
  });
  const file = join(fresh('f'), 'a-file');
  writeFileSync(file, 'x');
  cases.push({ name: 'train: --out is a file', args: ['train', '--problem', 'toy', '--quick', '--no-progress', '--out', file], expect: 'reject', mentions: [file] });
  cases.push({ name: 'place: --out under a file', args: ['place', '--policy', join(trained, 'policy'), '--problem', 'toy', '--out', join(file, 'x')], expect: 'reject', mentions: [file], before: async () => void (await ready) });
  cases.push({ name: 'train: --seed abc', args: ['train', '--problem', 'toy', '--quick', '--seed', 'abc', '--out', fresh('o')], expect: 'reject', mentions: ['--seed'] });
  cases.push({ name: 'train: --time-limit 0x10', args: ['train', '--problem', 'toy', '--quick', '--time-limit', '0x10', '--out', fresh('o')], expect: 'reject', mentions: ['--time-limit'] });
  return cases;
}

/** A run killed with SIGKILL after `delayS`, then `train --resume DIR` alone: it resumes or refuses in one line; placement.json is never torn. */
function killCases(): Case[] {
  return [0.5, 0.9, 1.3, 1.8, 2.4, 3.2].map((delayS) => {
    const dir = fresh('killed');
    return {
      name: `train killed by SIGKILL after ${delayS} s, then --resume DIR alone`,
      args: [],
      expect: 'either' as const,
      outDirs: [dir],
      run: async () => {
        const child = spawn(process.execPath, [BIN, 'train', '--problem', 'toy', '--iterations', '40', '--checkpoint-every', '2', '--no-progress', '--out', dir], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, delayS * 1000));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
        return placer(['train', '--resume', dir, '--no-progress']);
      },
    };
  });
}

/** Ctrl-C 10 s into a long training must stop it within 10 s, checkpointed and exported. */
function interruptCases(): Case[] {
  const dir = fresh('interrupted');
  return [
    {
      name: 'train --problem gpt2-medium --time-limit 60: SIGINT after 10 s stops it within 10 s',
      args: [],
      expect: 'ok',
      outDirs: [dir],
      run: async () => {
        const child = spawn(process.execPath, [BIN, 'train', '--problem', 'gpt2-medium', '--time-limit', '60', '--no-progress', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
        await new Promise((r) => setTimeout(r, 10_000));
        child.kill('SIGINT');
        const code = await Promise.race([closed, new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000))]);
        if (code === 'late') {
          child.kill('SIGKILL');
          await closed;
          return { code: null, stdout, stderr: `${stderr}(did not stop within 10 s of SIGINT)`, timedOut: true };
        }
        return { code, stdout, stderr, timedOut: false };
      },
      wrong: () => (existsSync(join(dir, 'placement.json')) ? undefined : 'no placement.json after Ctrl-C'),
    },
  ];
}

/** Two runs on one folder: the second is refused in one line while the first holds it. */
function lockCases(): Case[] {
  const dir = fresh('shared');
  return [
    {
      name: 'train twice on one --out at once: the second is refused',
      args: [],
      expect: 'reject',
      mentions: ['in use'],
      outDirs: [dir],
      run: async () => {
        const first = spawn(process.execPath, [BIN, 'train', '--problem', 'toy', '--iterations', '3000', '--no-progress', '--out', dir], { stdio: 'ignore' });
        const closed = new Promise((r) => first.once('close', r));
        await new Promise((r) => setTimeout(r, 3000));
        const second = await placer(['train', '--problem', 'toy', '--quick', '--no-progress', '--out', dir]);
        first.kill('SIGKILL');
        await closed;
        return second;
      },
    },
  ];
}

function realCases(): Case[] {
  const cases: Case[] = [];
  const devices = join(ROOT, 'profiles', 'local', 'devices.csv');
  const solved = fresh('solved');
  const ready = placer(['solve', '--problem', 'local-mlp', '--out', solved]);
  const withPlacement = (name: string, edit: (json: Record<string, unknown>) => void, mentions: string[], expect: Case['expect'] = 'reject') => {
    const dir = fresh('v');
    cases.push({
      name: `validate: ${name}`,
      args: ['validate', join(dir, 'placement.json'), '--model', 'mlp', '--devices', devices, '--steps', '1', '--warmup', '1'],
      expect,
      mentions,
      before: async () => {
        await ready;
        const json = JSON.parse(readFileSync(join(solved, 'placement.json'), 'utf8'));
        edit(json);
        writeFileSync(join(dir, 'placement.json'), JSON.stringify(json));
      },
    });
  };
  withPlacement('microBatches 0', (json) => (json.microBatches = 0), ['microBatches']);
  withPlacement('microBatches "abc"', (json) => (json.microBatches = 'abc'), ['microBatches']);
  withPlacement('microBatches 1e9', (json) => (json.microBatches = 1e9), ['microBatches']);
  withPlacement('replicas over the micro-batch rows', (json) => ((json.stages as Array<Record<string, unknown>>)[0].replicas = 1000), ['replicas']);
  withPlacement('unknown type', (json) => ((json.stages as Array<Record<string, unknown>>)[0].type = 'tpu'), ['type']);
  const file = join(fresh('f'), 'a-file');
  writeFileSync(file, 'x');
  cases.push({ name: 'validate: --out under a file', args: ['validate', join(solved, 'placement.json'), '--model', 'mlp', '--devices', devices, '--steps', '1', '--warmup', '1', '--out', join(file, 'v.json')], expect: 'reject', mentions: [file], before: async () => void (await ready) });
  cases.push({ name: 'validate: --model nope', args: ['validate', join(solved, 'placement.json'), '--model', 'nope', '--devices', devices], expect: 'reject', mentions: ['nope'], before: async () => void (await ready) });
  const badBackend = join(fresh('b'), 'devices.csv');
  writeFileSync(badBackend, 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend\nlocal-wasm,1,1,1e9,1e9,wasm\nlocal-wasm-b,1,1,1e9,1e9,quantum\nlocal-cpu,1,1,1e9,1e9,cpu\nlocal-cpu-b,1,1,1e9,1e9,cpu\n');
  cases.push({ name: 'validate: unknown backend', args: ['validate', join(solved, 'placement.json'), '--model', 'mlp', '--devices', badBackend, '--steps', '1', '--warmup', '1'], expect: 'reject', mentions: ['devices.csv', 'row 3'], before: async () => void (await ready) });
  cases.push({ name: 'profile: --out is a file', args: ['profile', '--model', 'mlp', '--devices', devices, '--out', file, '--quick'], expect: 'reject', mentions: [file] });
  cases.push({ name: 'profile: --concurrent 100000', args: ['profile', '--model', 'mlp', '--devices', devices, '--out', fresh('prof'), '--quick', '--concurrent', '100000'], expect: 'reject', mentions: ['--concurrent'] });
  cases.push({ name: 'profile: unknown backend', args: ['profile', '--model', 'mlp', '--devices', badBackend, '--out', fresh('prof'), '--quick'], expect: 'reject', mentions: ['devices.csv', 'row 3'] });
  const badModel = join(fresh('m'), 'model.json');
  writeFileSync(badModel, '{"name": "x", "layers": "many"}');
  cases.push({ name: 'profile: a broken model description', args: ['profile', '--model', badModel, '--devices', devices, '--out', fresh('prof'), '--quick'], expect: 'reject', mentions: ['model.json'] });
  return cases;
}

/** import, estimate and plan: broken model files, bad flags, unwritable outputs. */
function modelCases(): Case[] {
  const cases: Case[] = [];
  const onnx = join(ROOT, 'profiles', 'fixtures', 'resnet-block.onnx');
  const keras = join(ROOT, 'profiles', 'fixtures', 'keras-cnn', 'model.json');
  const dir = fresh('models');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(onnx).subarray(0, 100));
  const empty = join(dir, 'empty.onnx');
  writeFileSync(empty, '');
  const garbage = join(dir, 'garbage.onnx');
  writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  const badJson = join(dir, 'model.json');
  writeFileSync(badJson, '{"modelTopology": ');
  const wrongJson = join(fresh('wrong'), 'model.json');
  writeFileSync(wrongJson, JSON.stringify({ modelTopology: { model_config: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 'many' } }] } } } }));
  const reject = (name: string, args: string[], mentions: string[] = []) => cases.push({ name, args, expect: 'reject', mentions });
  reject('import: truncated .onnx', ['import', truncated, '--out', fresh('i')], ['truncated.onnx']);
  reject('import: empty .onnx', ['import', empty, '--out', fresh('i')], ['empty.onnx']);
  reject('import: garbage .onnx', ['import', garbage, '--out', fresh('i')], ['garbage.onnx']);
  reject('import: broken model.json', ['import', badJson, '--out', fresh('i')], ['model.json']);
  reject('import: model.json with a bad layer config', ['import', wrongJson, '--out', fresh('i')], ['model.json']);
  reject('import: missing file', ['import', join(dir, 'nope.onnx'), '--out', fresh('i')], ['nope.onnx']);
  reject('import: --out is a file', ['import', onnx, '--out', file], [file]);
  reject('import: --micro-batch-size 0x8', ['import', onnx, '--micro-batch-size', '0x8', '--out', fresh('i')], ['--micro-batch-size']);
  reject('import: --dim bad', ['import', onnx, '--dim', 'seq=-1', '--out', fresh('i')], ['--dim']);
  cases.push({ name: 'import: keras fixture', args: ['import', keras, '--out', fresh('i')], expect: 'ok' });
  const p = problem();
  reject('estimate: layers.csv without flops columns', ['estimate', '--layers', p.files.layers, '--out', fresh('e')], ['layers.csv']);
  reject('estimate: --catalogue missing', ['estimate', '--layers', p.files.layers, '--catalogue', join(dir, 'nope.csv'), '--out', fresh('e')], ['nope.csv']);
  const imported = fresh('imported');
  const importing = placer(['import', keras, '--out', imported]);
  cases.push({ name: 'estimate: --out is a file', args: ['estimate', '--layers', join(imported, 'layers.csv'), '--out', file], expect: 'reject', mentions: [file], before: async () => void (await importing) });
  cases.push({ name: 'estimate: --catalogue with a price of 1e308', args: ['estimate', '--layers', join(imported, 'layers.csv'), '--catalogue', join(dir, 'huge.csv'), '--out', fresh('e')], expect: 'reject', mentions: ['huge.csv'], before: async () => {
    await importing;
    writeFileSync(join(dir, 'huge.csv'), 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,1e308,4,1e9,1e9\n');
  } });
  reject('plan: truncated .onnx', ['plan', truncated, '--out', fresh('pl'), '--time-limit', '5'], ['truncated.onnx']);
  reject('plan: --budget 0x10', ['plan', onnx, '--budget', '0x10', '--out', fresh('pl')], ['--budget']);
  reject('plan: --out under a file', ['plan', onnx, '--out', join(file, 'x'), '--time-limit', '5'], [file]);
  const planned = fresh('pl');
  cases.push({ name: 'plan: onnx fixture', args: ['plan', onnx, '--micro-batch-size', '8', '--time-limit', '10', '--out', planned], expect: 'either', outDirs: [planned] });
  return cases;
}

/** Bundled-problem folders of an earlier run that was killed (they would break the bundled-problem tests). */
function removeStaleTemporaries(): void {
  const problems = join(ROOT, 'profiles', 'problems');
  for (const name of readdirSync(problems)) {
    const pid = /^hostile-tmp-(\d+)-\d+$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(pid), 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(problems, name), { recursive: true, force: true });
  }
}

function removeTemporaries(): void {
  for (const dir of bundledTemporaries) rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  removeStaleTemporaries();
  process.on('exit', removeTemporaries);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      removeTemporaries();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  const all = [...csvCases(), ...placementCases(), ...flagCases(), ...problemJsonCases(), ...randomCases(), ...trainCases(), ...killCases(), ...interruptCases(), ...lockCases(), ...realCases(), ...modelCases()];
  const cases = ONLY ? all.filter((c) => c.name.includes(ONLY)) : all;
  const counts: Record<Outcome, number> = { clean: 0, 'stack trace': 0, hang: 0, 'wrong result': 0, unclear: 0 };
  const notClean: string[] = [];
  const records: Array<{ name: string; outcome: Outcome; why: string }> = [];
  let next = 0;
  const workers = Math.max(1, Number(arg('--jobs') ?? 2));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < cases.length) {
        const c = cases[next++];
        await c.before?.();
        const run = c.run ? await c.run() : await placer(c.args, TIMEOUT_S, c.env);
        const { outcome, why } = classify(run, c);
        counts[outcome]++;
        records.push({ name: c.name, outcome, why });
        if (outcome !== 'clean') notClean.push(`${outcome.padEnd(12)} ${c.name}: ${why.slice(0, 200)}`);
      }
    }),
  );
  for (const dir of bundledTemporaries) rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  notClean.sort();
  process.stdout.write(`${notClean.join('\n')}${notClean.length ? '\n' : ''}`);
  process.stdout.write(
    `${cases.length} hostile runs: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}\n`,
  );
  const jsonFile = arg('--json');
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ counts, records: records.sort((a, b) => a.name.localeCompare(b.name)) }, null, 2)}\n`);
}

main().catch((error) => {
  for (const dir of bundledTemporaries) rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`hostile: ${(error as Error).stack}\n`);
  process.exit(1);
});
