// Package maillog reads MTA logs to find the mail that was delivered: who sent what to
// whom, when, and with what outcome. Today it reads Postfix logs (syslog and RFC 3339
// timestamps, plain or gzip-compressed) and can feed the history with what it finds
// (Import).
//
// A log is outside input: this package is a parser that never panics and never trusts a
// line. A line it cannot read is skipped and counted, memory stays bounded whatever the
// input (a line is at most 64 KiB, the queue-id map has a cap), and it does not decide
// anything about the domains it finds.
package maillog
