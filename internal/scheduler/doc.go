// Package scheduler decides which node each pending instance runs on.
//
// Place is a pure function: it reads a snapshot of nodes and a list of
// requests and returns placements. It does no I/O, never reads the clock
// (staleness is judged against Options.Now) and never mutates its inputs,
// so the controller can call it inside a reconciler and tests can call it
// with hand-written snapshots (see package schedulertest).
//
// The algorithm is greedy and deterministic. Requests are taken in a
// canonical order (pinned first, then zone-constrained, then larger before
// smaller, then by instance id), and each goes to the usable node that
// fits it and ranks best: fewest instances of the same spread key, then
// lowest dominant load after placement, then lowest node id. Capacity
// consumed by one placement is visible to the next in the same call.
package scheduler
