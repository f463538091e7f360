// Package watch is what `rcptguard squat --watch` remembers between runs and what changed:
// per domain the last facts DNS gave (registered or not, able to receive mail, MX and NS
// hosts, null MX, when it was first seen registered and last checked), whether it is a
// lookalike (of which domain, by which technique) or a known correspondent, every run, and
// every change a run found.
//
// A run is recorded atomically (Store.Record): the previous facts are read, compared with
// the new ones and replaced in one transaction that excludes every other run on the same
// data, so two runs at once cannot both report the same change. A lookup that failed
// (dnsq.Unknown) keeps the previous facts and is never a change: a resolver outage must
// not look like every lookalike going away.
//
// For a known correspondent only what suggests it changed hands is reported: its MX moved
// to a host that also serves lookalikes in the store, it stopped existing, or it came back
// after being gone (Store.ChangedOwner answers for the guard's changed_owner policy).
//
// The store lives where the other stores live (Open): a SQLite file in the data folder
// (FileName), or the quarantine's PostgreSQL database (tables watch_*) when one is
// configured. It resolves nothing (dnsq does) and sends nothing (notice composes the
// change mail); Line and WriteText render changes for the terminal and the mail.
package watch
