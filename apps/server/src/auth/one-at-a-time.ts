// Concurrent guesses on one account would all pass the brute-force check
// before any of them is recorded: a thousand parallel requests would be a
// thousand guesses past the lock. Checks on one key (a normalised e-mail) run
// one after another in this process, so each sees the outcome of the one
// before; waiting costs a promise, not a database connection. Across
// instances the slip is at most one guess per instance.
const running = new Map<string, Promise<unknown>>();

export async function oneAtATime<T>(key: string, check: () => Promise<T>): Promise<T> {
  const previous = running.get(key) ?? Promise.resolve();
  const turn = previous.then(check);
  const settled = turn.catch(() => undefined);
  running.set(key, settled);
  try {
    return await turn;
  } finally {
    if (running.get(key) === settled) running.delete(key);
  }
}
