export { tauriBackend as backend } from "./tauri";
export { asApiError } from "./backend";
export type * from "./backend";
