package intake

import (
	"strings"
	"testing"
)

func TestPostfixQueueID(t *testing.T) {
	const postfix = "Received: from client.example (client.example [192.0.2.7])\r\n\tby mx.example.org (Postfix) with ESMTPSA id 4XyZ1abc\r\n\tfor <bob@army.ml>; Fri, 27 Nov 2026 13:00:00 +0000 (UTC)\r\n"
	tests := []struct{ name, msg, want string }{
		{"smtpd's field on top", postfix + "Subject: x\r\n\r\nbody\r\n", "4XyZ1abc"},
		{"long queue ID", strings.Replace(postfix, "4XyZ1abc", "4fX2Yq1Zk3zB9wN", 1) + "\r\nbody", "4fX2Yq1Zk3zB9wN"},
		{"bare LF", strings.ReplaceAll(postfix, "\r\n", "\n") + "\nbody\n", "4XyZ1abc"},
		{"another field first", "Subject: x\r\n" + postfix + "\r\nbody\r\n", ""},
		{"Postfix's field below another hop's", "Received: from a by b with SMTP id zzz;\r\n\tdate\r\n" + postfix + "\r\n", ""},
		{"no header", "\r\nReceived: by mx (Postfix) with ESMTP id 4XyZ1abc\r\n", ""},
		{"in the body", "Subject: x\r\n\r\n" + postfix, ""},
		{"empty", "", ""},
		{"under the policy service's PREPEND", "X-Rcptguard-Verdict: warn; Did you mean army.mil?\r\n\t\"armmy\" repeats\r\n" + postfix + "\r\nbody", "4XyZ1abc"},
		{"under two of them", "x-rcptguard-verdict: warn\r\nX-Rcptguard-Reason: r\r\n" + postfix + "\r\nbody", "4XyZ1abc"},
		{"another field after them", "X-Rcptguard-Verdict: warn\r\nSubject: x\r\n" + postfix + "\r\nbody", ""},
		{"other MTA", "Received: from a by mx (Exim) with ESMTP id 4XyZ1abc;\r\n\r\n", ""},
		{"pickup, no smtpd", "Received: by mx.example.org (Postfix, from userid 0)\r\n\tid 4XyZ1abc; date\r\n\r\n", ""},
	}
	for _, tc := range tests {
		if got := PostfixQueueID([]byte(tc.msg)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzPostfixQueueID: any content gives a queue ID of letters and digits or nothing, and
// never panics.
func FuzzPostfixQueueID(f *testing.F) {
	f.Add([]byte("Received: from c (c [192.0.2.7])\r\n\tby mx (Postfix) with ESMTP id 4XyZ1abc\r\n\tfor <b@x>; d\r\n\r\nbody"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("Received:\n \n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		id := PostfixQueueID(msg)
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				t.Fatalf("queue ID %q", id)
			}
		}
	})
}
