package scan

import "testing"

func FuzzSendmailReader(f *testing.F) { fuzzReader(f, SendmailFormat, "sendmail-maillog.log") }
