// Exponential backoff with full jitter: the n-th wait is uniform in [0, min(cap, base * 2^n)),
// so a crowd of widgets cut off together (a deploy, a network blip) does not come back in step.

export function createBackoff({ base = 500, cap = 30000, random = Math.random } = {}) {
  let attempt = 0;
  return {
    next() {
      const ceiling = Math.min(cap, base * 2 ** attempt);
      attempt = Math.min(attempt + 1, 32);
      return Math.floor(random() * ceiling);
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}
