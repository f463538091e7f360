// Package history is the store of whom the organisation writes to: per recipient domain
// (and per sender domain) message counts with the first and last time seen, and the
// learning rule that decides which mail may teach it a new correspondent.
//
// It owns the data and the rule, nothing else: it speaks no mail protocol and applies no
// policy. The engine reads the known correspondents from a Store (Known) and the guard
// decides; a Learner feeds the Store from mail that went out, and refuses to learn a
// lookalike of a protected domain or of a much more frequent known domain, however often it
// is mailed: the mail to .ml instead of .mil went on for years.
//
// Store is a small interface with two implementations, SQLite (one node) and PostgreSQL
// (several nodes sharing what they learn, in the quarantine's database; Open picks one);
// both pass the same test suite. Store.Generation lets a daemon notice, with one small
// read, that another node or an import changed the history.
package history
