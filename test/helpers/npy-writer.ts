// The .npy writer is the library's (passes/io/npy.ts); tests import it from here as before.
export { encodeNpy, writeNpy, type NpyDtype } from "../../passes/io/npy.ts";
