// `window.Parley(command, ...args)`: the page's handle on the widget. Calls made before the
// bundle arrived wait in `window.Parley.q` (the embed snippet's stub) and run first, in order,
// before the widget asks for its session, so an early `identify` shapes that first session.

const COMMANDS = ["open", "close", "identify", "on", "shutdown"];

export function dispatch(widget, console, command, args) {
  if (!COMMANDS.includes(command)) {
    console.warn(`Parley: unknown command "${command}"; commands are ${COMMANDS.join(", ")}.`);
    return;
  }
  try {
    widget[command](...args);
  } catch (error) {
    console.error(`Parley: Parley('${command}') failed:`, error);
  }
}

// Replace the stub with the real function and run what it queued. False when a real Parley is
// already there (the embed tag appears twice on the page): that one keeps working alone.
export function installApi(window, widget, console) {
  const existing = window.Parley;
  if (typeof existing === "function" && existing.loaded === true) return false;
  const queued = existing && Array.isArray(existing.q) ? existing.q : [];
  const api = (command, ...args) => dispatch(widget, console, command, args);
  api.loaded = true;
  window.Parley = api;
  for (const call of queued) {
    const [command, ...args] = Array.from(call);
    dispatch(widget, console, command, args);
  }
  return true;
}
