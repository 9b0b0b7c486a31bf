// Package integration holds Corral's end-to-end tests: each starts a real corrald on temporary
// directories and sockets and drives it with the corral binary, the gRPC API and the real ctr,
// against real runtimes (runc, runsc). They need root and `make build` (or -test.bins). The CRI
// tests (TestCRI*) also need crictl: on $PATH, or built by ../shared/cri-harness/setup.sh WORK with
// CRI_HARNESS=WORK set.
package integration
