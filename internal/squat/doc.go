// Package squat finds which lookalikes of the organisation's domains someone holds and
// can receive mail (`rcptguard squat`, docs/squat.md): it generates every lookalike of each
// target domain with the engine, looks each up in DNS through a Resolver (a pool of
// workers fed by a channel, so memory stays bounded however many there are), and builds a
// report: what is registered, what can receive mail, at which MX hosts, and which MX hosts
// serve many lookalikes (a catch-all farm). It writes the report as text, JSON (schema
// "rcptguard-squat/1"), CSV or self-contained HTML, and the lookalikes that can receive mail
// as a block list in the config's format.
//
// It asks DNS nothing itself (package dnsq does) and decides no mail (the guard does).
package squat
