// Package policyd is the Postfix policy delegation protocol adapter
// (check_policy_service; http://www.postfix.org/SMTPD_POLICY_README.html).
//
// It is thin: it turns policy requests into guard calls and the guard's decisions into
// policy actions, and decides nothing itself. At RCPT it asks the guard about the
// recipient and keeps the decision, by the request's instance attribute; at
// END-OF-MESSAGE it combines the decisions kept for the message, without asking the guard
// again (a reload in between changes nothing about a message under way). It owns the
// protocol (ReadRequest), the listener (Server) and that bounded per-transaction memory;
// it must not hold detection logic, policy, or message content (the protocol carries
// none).
//
// Recommended Postfix settings (fail closed: if rcptguard is down, mail waits):
//
//	smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
//	smtpd_recipient_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=5s, default_action=DEFER_IF_PERMIT }
//	smtpd_end_of_data_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=5s, default_action=DEFER_IF_PERMIT }
//
// A message to hold is refused at END-OF-MESSAGE (550 5.7.1), unless Server.Filter names
// rcptguard's quarantine intake: then the server records a hand-over (the decisions, the
// SASL user, the client, by Postfix's queue ID) in the quarantine's database and answers
// "FILTER transport:destination"; Postfix accepts and queues the message and hands it to
// the intake (package intake), which holds it with the hand-over's decisions, after a
// restart of rcptguard too. A hand-over that cannot be recorded is answered 451: the
// client keeps the message.
//
// The check must come before any permit (permit_mynetworks, permit_sasl_authenticated) in
// smtpd_recipient_restrictions, and both lists should name the service with the same text.
// A message whose accepted recipients were not all seen at RCPT is deferred at
// END-OF-MESSAGE, so a check placed after a permit shows up as deferred mail and an error
// in the log, not as unchecked mail.
package policyd
