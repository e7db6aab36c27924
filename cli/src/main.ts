/**
 * The `drover` command line. Started by bin/drover.mjs with Node 24. Commands: `plan -f <manifest> [--json]
 * [--team <slug>]`. Usage errors exit 2, invalid input 1.
 */
import { parseArgs } from 'node:util';
import { runPlan, type Output } from './plan.ts';

const USAGE = `usage: drover plan -f <drover.yaml|drover.json> [--json] [--team <slug>]`;

/** main runs the command line with argv (without node and script) and returns the exit status. */
export function main(argv: string[], out: Output): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'plan') {
    out.stderr(`drover: unknown command ${JSON.stringify(command)}\n${USAGE}`);
    return 2;
  }
  let values: { file?: string; json?: boolean; team?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { file: { type: 'string', short: 'f' }, json: { type: 'boolean' }, team: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    out.stderr(`drover plan: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.file === undefined) {
    out.stderr(`drover plan: -f <manifest> is required\n${USAGE}`);
    return 2;
  }
  return runPlan({ file: values.file, json: values.json === true, ...(values.team !== undefined ? { team: values.team } : {}) }, out);
}

// Writes to files and pipes are synchronous on Linux, so 10,000 jobs stream out without piling up in memory.
process.exitCode = main(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(`${chunk}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
