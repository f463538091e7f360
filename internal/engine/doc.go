// Package engine decides whether a recipient domain is a likely typo or lookalike of a
// domain the organisation means: a protected domain or namespace, a known correspondent, or
// a major mailbox provider.
//
// It is a pure library: no I/O, no globals that change, no clock. An Engine is built once
// from its inputs (New), is immutable afterwards and safe for concurrent use; callers
// rebuild and swap it when the inputs change. A check never scans all candidates: they are
// indexed by a deletion neighbourhood of their labels, by visual skeleton and by exact
// name, and suffix confusions are looked up in precomputed tables.
//
// Every kind of mistake (Technique) is implemented twice, as a detector (Check) and as a
// generator (Permute), and a property test holds the two together. PermuteWide generates
// more, for discovery rather than detection: every lookalike a squatter could register (at
// least what dnstwist's fuzzers make; a test holds it to a fixture of dnstwist's output).
//
// The engine reports findings with evidence and a score; it does not choose verdicts. That
// is the guard's job, with the administrator's policy.
package engine
