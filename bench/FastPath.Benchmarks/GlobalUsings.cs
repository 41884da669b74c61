// The pipeline rig lives in the dataplane (src/FastPath.Dataplane/Diagnostics) so `fastpath bench`
// and these benchmarks measure with the same code.
global using FastPath.Dataplane.Diagnostics;
