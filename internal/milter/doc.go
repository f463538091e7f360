// Package milter is the milter adapter (Postfix smtpd_milters and non_smtpd_milters,
// Sendmail's InputMailFilters), built on github.com/d--j/go-milter.
//
// It is thin: it turns milter callbacks into guard calls and the guard's decisions into
// milter replies, and decides nothing itself. At RCPT it asks guard.Check about the
// recipient; at end of message it asks guard.Inspect about the whole message. It owns the
// listener (Server) and one small state per message (sender, accepted recipients, the
// guard in use when the message began); it must not hold detection logic or policy, and
// it never logs message content.
//
// What the MTA sees, by enforced verdict:
//
//   - Allow: accepted.
//   - Warn: accepted at end of message with the headers X-Rcptguard-Verdict: warn and
//     X-Rcptguard-Reason. Headers of those names that the message already had are
//     removed, so a sender cannot forge them.
//   - Hold: accepted at RCPT. With a Holder (Server.Holder), the adapter collects the
//     message's content and, at end of message, hands it to the Holder (rcptguard's
//     quarantine) and tells the MTA to discard it: the client gets "250", and rcptguard
//     owns the message. When the Holder answers held.ErrConfirmed the message is
//     accepted as allowed; when it fails, or the message is larger than
//     Server.MaxMessageBytes, the MTA gets a temporary error. Without a Holder the whole
//     message is refused at end of message with "550 5.7.1 <reason> Please check the
//     recipients and send again.", and mail submitted without SMTP is quarantined by the
//     MTA instead (below).
//   - Reject, Invalid: that recipient is refused at RCPT with "550 5.7.1 <reason>" or
//     "553 5.1.3 <reason>"; the others go on.
//   - No guard loaded, shutting down, or any internal error: a temporary error
//     (451 4.3.0), never a silent accept.
//
// In monitor mode the guard's enforced verdict is Allow: the mail passes and the decision
// is only logged. Invalid recipients stay refused, as the guard says.
//
// # Mail submitted without SMTP
//
// Postfix runs non_smtpd_milters in cleanup(8) for mail from sendmail(1)/postdrop (and
// QMQP), emulating an SMTP session, and it does not allow a milter to reject a recipient
// there: it logs "milter configuration error: can't reject recipient in non-smtpd(8)
// submission" and defers the message. Postfix 3.7 sends, for such mail, a connect event
// from "localhost", 127.0.0.1, port 0 (no real TCP client has port 0), an emulated HELO
// "localhost", the queue id already at MAIL, and no {mail_mailer}, {mail_host},
// {rcpt_mailer} or {rcpt_host} macros, which cleanup(8) cannot evaluate. {daemon_name},
// {daemon_addr}, j, v and _ ("localhost [127.0.0.1]") look the same as for a local SMTP
// client, so they cannot tell the two apart. The adapter therefore treats a message as
// non-SMTP when the connection came from an Internet address with port 0, or when the
// MTA is Postfix (macro v) and a recipient comes without {rcpt_mailer} (which it asks
// for). For such a message it accepts every recipient at RCPT and decides at end of
// message:
//
//   - Hold: with a Holder, as for SMTP mail. Without one, the message is quarantined
//     (Postfix moves it to the hold queue; the reason is in rcptguard's log only, as
//     Postfix keeps none) and accepted. An administrator releases it with
//     "postsuper -H ID" or deletes it with "postsuper -d ID".
//   - Reject, Invalid: the message is refused with the reply; Postfix returns it to the
//     sender with that text in a non-delivery notice, and delivers it to nobody.
//
// # Postfix
//
// Recommended settings (fail closed: if rcptguard is down, mail waits):
//
//	smtpd_milters = inet:127.0.0.1:PORT
//	non_smtpd_milters = inet:127.0.0.1:PORT
//	milter_default_action = tempfail
//	milter_protocol = 6
//
// The adapter asks Postfix for the macros it needs (SMFIF_SETSYMLIST), so the
// milter_*_macros settings do not matter.
//
// # Held content
//
// With a Holder the adapter also asks for the header and body events, and for header
// values with their leading white space (SMFIP_HDR_LEADSPC) and the skip reply
// (SMFIP_SKIP) when the MTA offers them (Postfix 3.7 does). It keeps the content only of
// a message whose enforced verdict is Hold, decided at its first header or body event,
// and asks the MTA to skip the body of the others. The content kept is what the milter
// sees: the header fields as "Name: value" lines with CRLF line ends (folding kept), the
// blank line and the body byte for byte. With Postfix that is without Postfix's own
// Received field, which it gives to no milter, and with the fields that cleanup(8) adds
// to a message lacking them (Date, Message-ID). It needs milter protocol 6 and the actions
// add header, change header, quarantine and set macros, which Postfix 3 offers.
package milter
