/**
 * `nca <command> [args]`: a dispatcher. Each command is a module exporting
 * `run(argv: string[]): Promise<number>` (the exit code), loaded only when it is the one asked for,
 * so a quick `nca inspect` never loads the trainer's dependencies.
 *
 * To add a command, add one line to COMMANDS.
 */

export interface Command {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  inspect: { summary: 'print what a .nca model contains (--json for machines)', load: () => import('./inspect.js') },
  train: { summary: 'train a model on a sprite: growth, persistence or healing (see docs/training.md)', load: () => import('./train.js') },
  eval: { summary: 'score a model against its target: growth, healing, persistence (exit 1 on fail)', load: () => import('./eval.js') },
  render: { summary: 'render a run (growth, optional bites) as an animated GIF or a PNG strip', load: () => import('./render.js') },
  sweep: { summary: 'train many sprites x parameters: here, or on nca workers through Redis (see docs/sweep.md)', load: () => import('./sweep.js') },
  worker: { summary: 'take nca sweep jobs from a Redis queue and train them (see docs/sweep.md)', load: () => import('./worker.js') },
  import: { summary: "convert a published model into a .nca file (distill: the Growing NCA article's JSON)", load: () => import('./import.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return ['usage: nca <command> [options]', '', 'commands:', ...lines, '', 'Run `nca <command> --help` for a command\'s options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === undefined) {
    console.error(usage());
    return 2;
  }
  // Own properties only: `nca toString` must not find Object.prototype.toString.
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    console.error(`nca: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
