// Package relay is rcptguard's SMTP door: an outbound smarthost that sits in front of an
// upstream SMTP server (the organisation's real smarthost, Postfix, M365's connector) and
// asks the guard about every recipient before the mail goes on.
//
// It is a before-queue proxy, not an MTA: it has no queue, makes no retries and never
// delivers to MX hosts. A client gets 250 for a message only after the upstream accepted
// it; whenever the relay cannot hand the message on, the client gets a temporary error and
// keeps the mail. It is never an open relay: a client must be in AllowedNetworks or
// authenticate (AUTH PLAIN, only over TLS unless AllowInsecureAuth).
//
// # One transaction, two sessions
//
// The relay mirrors the client's transaction on the upstream as it happens, as Postfix's
// before-queue proxy filter does: MAIL FROM opens (or reuses) an upstream session and sends
// MAIL FROM there; each recipient the guard lets through is sent to the upstream at once,
// and the upstream's answer is the client's answer. So a recipient the upstream refuses is
// refused to the client at RCPT, with the upstream's code and text, and the others go on:
// the client bounces exactly the recipients that were not delivered, and the relay never
// has to decide what a partial failure after DATA means. The message itself is streamed to
// the upstream as it arrives, behind a Received header for this hop; if anything goes
// wrong before the final dot (client gone, size limit, bare LF, timeout) the upstream
// connection is closed without the dot, so the upstream discards the partial message.
//
// # Verdicts
//
// Reject and Invalid refuse the recipient at RCPT (550 5.7.1, 553 5.1.3) with the guard's
// reason. Hold accepts the recipient at RCPT and decides for the whole message at the end
// of DATA, because a recipient refused at RCPT would not stop the others. With a Holder
// (rcptguard's quarantine) the relay reads the whole message, hands it to the Holder
// exactly as it would have forwarded it (behind this hop's Received header, the client's
// X-Rcptguard-* fields removed) and answers 250 "held as ID" once it is stored; the
// upstream gets no DATA. Without a Holder it refuses the message with 550 5.7.1, the
// reasons and "Please check the recipients and send again.". Warn delivers and adds
// X-Rcptguard-Verdict and X-Rcptguard-Reason headers; the client's own X-Rcptguard-*
// headers are always removed, so no sender can forge them. In monitor mode the relay
// decides and logs, and delivers.
//
// # Line ends
//
// A bare LF inside a message that ends properly (CRLF.CRLF) is accepted: the upstream gets
// it as CRLF, dot-stuffed, so no "\n.\n" can end the message early downstream (no SMTP
// smuggling). A client that ends its message with a bare LF form of the end marker
// ("\n.\n", "\r\n.\n", "\n.\r\n") would wait for a reply that go-smtp never gives; the
// relay notices the pause (BareLFTimeout) and answers 554 5.6.0 and closes the connection.
//
// # Memory
//
// A message relayed with DATA is streamed. One that must be read in full first (sent
// with BDAT, or to hold) is kept in memory up to the Spool's threshold and in a spool
// file beyond it, removed when the transaction ends in any way. AUTH failures are
// limited per client address and per user across connections (AuthMaxFailures).
//
// It logs one slog line per transaction that reached a decision, with no message content.
package relay
