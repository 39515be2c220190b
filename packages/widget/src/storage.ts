// The only browser storage the widget uses: localStorage keys
// `parley:<project>:<name>`, each documented in docs/widget.md (privacy page
// text). Never cookies, sessionStorage or IndexedDB.

/** Every name the widget stores under (docs/widget.md describes each). */
export const STORE_NAMES = ['shows', 'dismissedAt', 'submittedAt', 'email', 'queue', 'reporter'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export type Store = {
  get(name: StoreName): string | null;
  set(name: StoreName, value: string): void;
  remove(name: StoreName): void;
};

export function createStore(project: string, mode: 'local' | 'none' = 'local'): Store {
  const key = (name: StoreName) => `parley:${project}:${name}`;
  // localStorage throws where it is blocked (sandboxed frames, some privacy
  // modes) or full; the widget then behaves as with storage: 'none'.
  const attempt = <T>(task: (storage: Storage) => T): T | null => {
    if (mode === 'none') return null;
    try {
      return task(localStorage);
    } catch {
      return null;
    }
  };
  return {
    get: (name) => attempt((storage) => storage.getItem(key(name))),
    set: (name, value) => attempt((storage) => storage.setItem(key(name), value)),
    remove: (name) => attempt((storage) => storage.removeItem(key(name))),
  };
}
