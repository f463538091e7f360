package relay

import "testing"

func TestBareLFEnd(t *testing.T) {
	for _, tc := range []struct {
		chunks []string // as go-smtp passes the data on
		want   bool
	}{
		{[]string{"a\n.\n"}, true},
		{[]string{"a\n", ".", "\n"}, true},
		{[]string{"a\r\n\n"}, true}, // "\r\n.\n": go-smtp drops the dot
		{[]string{"body\n.\r\n"}, true},
		{[]string{"bo", "dy\n", ".\r", "\n"}, true},
		{[]string{"\n.\r\n"}, true},
		{[]string{"\n"}, true},
		{[]string{"a\r\n.\r\n"}, false}, // a dot-stuffed line of a CRLF client
		{[]string{"a\r\nb\r\n"}, false},
		{[]string{"a\nb\n"}, false}, // bare LFs, but no end marker: the client is still sending
		{[]string{""}, false},
	} {
		var in input
		for _, c := range tc.chunks {
			in.note([]byte(c))
		}
		if got := in.bareLFEnd(); got != tc.want {
			t.Errorf("%q: bareLFEnd = %v, want %v", tc.chunks, got, tc.want)
		}
	}
}
