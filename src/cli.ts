import { Command } from 'commander';

/**
 * `npx livegive <command>`: operator and charity tools. Each slice adds its commands through a
 * register function in its own *.cli.ts file; this file only wires them.
 */
export async function buildCli(): Promise<Command> {
  const program = new Command().name('livegive').description('livegive operator and charity tools').showHelpAfterError();
  const registrations: Array<(p: Command) => void> = [];
  for (const load of cliModules) registrations.push(await load());
  for (const register of registrations) register(program);
  return program;
}

/** Slices add a line here: () => import('./x/x.cli').then((m) => m.register) */
const cliModules: Array<() => Promise<(p: Command) => void>> = [
  () => import('./allocator/allocator.cli').then((m) => m.register),
  () => import('./statements/statements.cli').then((m) => m.register),
  () => import('./payments/payments.cli').then((m) => m.register),
];

if (require.main === module) {
  buildCli()
    .then((p) => p.parseAsync())
    .catch((err) => {
      console.error(`livegive: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
