package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rcptguard/rcptguard/internal/config"
)

// reinjectAddr is the re-injection smtpd of docs/postfix.md, where held mail goes back.
const reinjectAddr = "127.0.0.1:10027"

// The markers around the two blocks that `rcptguard init --postfix` prints.
const (
	mainCFMarker   = "# ---- main.cf ----"
	masterCFMarker = "# ---- master.cf ----"
	endMarker      = "# ---- end ----"
)

// reinjectService is the master.cf entry of docs/postfix.md ("Holding: the re-injection
// service"), word for word.
var reinjectService = []string{
	reinjectAddr + " inet n - n - - smtpd",
	"  -o syslog_name=postfix/reinject",
	"  -o content_filter=",
	"  -o smtpd_end_of_data_restrictions=",
	"  -o smtpd_recipient_restrictions=permit_mynetworks,reject",
	"  -o smtpd_relay_restrictions=permit_mynetworks,reject",
	"  -o smtpd_milters=",
	"  -o mynetworks=127.0.0.0/8",
	"  -o receive_override_options=no_header_body_checks,no_milters,no_unknown_recipient_checks",
}

// postfixLines renders the main.cf and master.cf lines that put rcptguard in front of
// this Postfix, the way docs/postfix.md recommends: the policy service for mail that
// comes in over SMTP (at RCPT and at the end of the data), the milter for sendmail(1)
// submissions, and the re-injection service. Existing settings are kept: the policy
// check goes before the restrictions already there, rcptguard's milter after the
// milters already there. A setting that already names rcptguard is left as it is.
func postfixLines(s postfixSettings) string {
	d := config.Default()
	check := "check_policy_service { inet:" + d.Listen.Policy + ", timeout=5s, default_action=DEFER_IF_PERMIT }"
	milter := "inet:" + d.Listen.Milter
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Postfix lines for rcptguard (docs/postfix.md). rcptguard applies none of them. In\n")
	w("# main.cf each one replaces the setting of that name (what this Postfix had there is\n")
	w("# kept in the new value); the master.cf lines are a new service. Then `postfix check`\n")
	w("# and `postfix reload`. Start rcptguard first: while its policy service does not\n")
	w("# answer, Postfix answers 4xx and the sending client keeps the mail.\n")
	w("%s\n", mainCFMarker)
	for _, param := range []string{"smtpd_recipient_restrictions", "smtpd_end_of_data_restrictions"} {
		cur := strings.TrimSpace(s.values[param])
		if strings.Contains(cur, "inet:"+d.Listen.Policy) {
			w("# %s already asks rcptguard's policy service.\n", param)
			continue
		}
		w("%s =\n    %s\n", param, check)
		if cur != "" {
			w("    %s\n", cur)
		}
	}
	others := strings.TrimSpace(s.values["non_smtpd_milters"])
	switch {
	case strings.Contains(others, milter):
		w("# non_smtpd_milters already names rcptguard's milter.\n")
	case others == "":
		w("non_smtpd_milters = %s\n", milter)
		w("milter_default_action = tempfail\n")
		w("milter_protocol = 6\n")
	default:
		// milter_default_action would change the other milters too: give rcptguard's
		// its own (Postfix 3.0 and later).
		w("non_smtpd_milters = %s, { %s, default_action=tempfail }\n", others, milter)
		w("milter_protocol = 6\n")
	}
	w("%s\n", masterCFMarker)
	if slices.Contains(s.services, reinjectAddr+"/inet") {
		w("# master.cf already has a service on %s: check that it is the re-injection\n", reinjectAddr)
		w("# service of docs/postfix.md (no milter, no policy check, no content filter).\n")
	} else {
		for _, l := range reinjectService {
			w("%s\n", l)
		}
	}
	w("%s\n", endMarker)
	w("# The quarantine intake (%s) needs no master.cf entry: the policy service hands a\n", d.Listen.Intake)
	w("# message to hold to it with FILTER smtp:[127.0.0.1]:%s, through Postfix's smtp service.\n", portOf(d.Listen.Intake))
	return b.String()
}

func portOf(hostPort string) string {
	return hostPort[strings.LastIndexByte(hostPort, ':')+1:]
}
