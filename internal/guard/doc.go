// Package guard turns what the engine found about a recipient into a decision: a verdict
// under the administrator's policy, the likely intended domains, and one plain sentence
// for the sender with the evidence.
//
// It is the one decision core that every door (CLI, policy service, milter, relay, HTTP)
// asks. It knows no protocol and does no I/O of its own: only CheckFrom asks an injected
// SenderHistory, and an injected DNS Resolver when live evidence is on (live.go), and
// only about a recipient the engine flagged, within a deadline (for DNS, a budget per
// message). What squat --watch found in DNS is handed to it as Evidence (evidence.go). A
// Guard is immutable and safe for concurrent use, and is replaced as a whole when its
// configuration changes.
package guard
