// Package bench holds Kumo's API benchmarks: real HTTP, real SigV4, a real
// database, driven by the official AWS SDK. `make bench` runs them.
package bench
