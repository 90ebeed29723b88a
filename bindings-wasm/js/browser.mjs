// kontingent in the browser: the availability preview (catalog + snapshot + deltas),
// answering with the server's own rule code. `await init()` once before use.
import wasmInit, { Preview } from "../pkg-web/kontingent_wasm.js";

let ready;
/** Load the module (fetches kontingent_wasm_bg.wasm next to the glue). */
export function init(input) {
  ready ??= wasmInit(input === undefined ? undefined : { module_or_path: input });
  return ready;
}

export { Preview };
export { systemClock, fixedClock, ManualClock } from "./clock.mjs";
