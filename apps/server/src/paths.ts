import { fileURLToPath } from 'node:url';

// This file sits at apps/server/{src,dist}/paths.*, so the repository root is
// three levels up both when run from source (tests) and when built.
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
