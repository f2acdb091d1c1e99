// Questions to a person at a terminal (prompts on standard error), and a secret read from standard
// input, never from argv, so it stays out of shell history and process listings.
import { createInterface } from 'node:readline';

export const interactive = () => Boolean(process.stdin.isTTY);

export async function ask(question: string, echo = true): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = new Promise<string | null>((resolve) => {
    rl.once('close', () => resolve(null));
    rl.question(question, resolve);
  });
  // Muted only once the question is on screen: what is typed after it is not echoed.
  if (!echo) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const result = await answer;
  rl.close();
  if (!echo) process.stderr.write('\n');
  return result;
}

/** A number from 1 to count, asked until one is given; null when the person ends input. */
export async function pickNumber(question: string, count: number): Promise<number | null> {
  for (;;) {
    const answer = await ask(question);
    if (answer === null) return null;
    const n = Number(answer.trim());
    if (Number.isInteger(n) && n >= 1 && n <= count) return n;
    process.stderr.write(`Type a number from 1 to ${count}.\n`);
  }
}

export async function confirm(question: string): Promise<boolean> {
  const answer = await ask(`${question} [y/N] `);
  return /^y(es)?$/i.test(answer?.trim() ?? '');
}

/** The first line of standard input, or what is typed (not echoed) at a terminal. */
export async function readSecret(prompt: string): Promise<string> {
  if (interactive()) return (await ask(prompt, false)) ?? '';
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.split(/\r?\n/)[0] ?? '';
}
