// Package policyd is the Postfix policy delegation protocol adapter
// (check_policy_service; http://www.postfix.org/SMTPD_POLICY_README.html).
//
// It is thin: it turns policy requests into guard calls and the guard's decisions into
// policy actions, and decides nothing itself. At RCPT it asks guard.Check about the
// recipient; at END-OF-MESSAGE it asks guard.Inspect about the whole message, whose
// recipients it has remembered by the request's instance attribute. It owns the protocol
// (ReadRequest), the listener (Server) and that bounded per-transaction memory; it must
// not hold detection logic, policy, or message content (the protocol carries none).
//
// Recommended Postfix settings (fail closed: if rcptguard is down, mail waits):
//
//	smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
//	smtpd_recipient_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=5s, default_action=DEFER_IF_PERMIT }
//	smtpd_end_of_data_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=5s, default_action=DEFER_IF_PERMIT }
//
// The check must come before any permit (permit_mynetworks, permit_sasl_authenticated) in
// smtpd_recipient_restrictions, and both lists should name the service with the same text.
// A message whose accepted recipients were not all seen at RCPT is deferred at
// END-OF-MESSAGE, so a check placed after a permit shows up as deferred mail and an error
// in the log, not as unchecked mail.
package policyd
