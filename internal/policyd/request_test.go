package policyd

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"
)

func TestReadRequest(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength-len("sender="))
	var many string
	for i := range MaxAttributes {
		many += "n" + strings.Repeat("x", i) + "=v\n"
	}
	tests := []struct {
		name, in string
		want     map[string]string
		err      error // nil: success; io.EOF: clean end; else errors.Is target
	}{
		{"basic", "request=smtpd_access_policy\nrecipient=bob@army.ml\n\n",
			map[string]string{"request": "smtpd_access_policy", "recipient": "bob@army.ml"}, nil},
		{"CRLF", "request=smtpd_access_policy\r\nsender=\r\n\r\n",
			map[string]string{"request": "smtpd_access_policy", "sender": ""}, nil},
		{"unknown attributes kept", "future_thing=1\nx-y.z=a b\n\n",
			map[string]string{"future_thing": "1", "x-y.z": "a b"}, nil},
		{"value with =", "ccert_subject=CN=a=b\n\n", map[string]string{"ccert_subject": "CN=a=b"}, nil},
		{"UTF-8 value", "recipient=bob@аrmy.mil\n\n", map[string]string{"recipient": "bob@аrmy.mil"}, nil},
		{"longest line", "sender=" + long + "\n\n", map[string]string{"sender": long}, nil},
		{"most attributes", many + "\n", nil, nil},
		{"clean EOF", "", nil, io.EOF},
		{"EOF after a line", "request=smtpd_access_policy\n", nil, io.ErrUnexpectedEOF},
		{"EOF inside a line", "request=smtpd_acc", nil, io.ErrUnexpectedEOF},
		{"no =", "request=smtpd_access_policy\nrecipient\n\n", nil, ErrMalformed},
		{"empty name", "=x\n\n", nil, ErrMalformed},
		{"space in name", "re quest=x\n\n", nil, ErrMalformed},
		{"empty request", "\n", nil, ErrMalformed},
		{"repeated name", "recipient=a@b.c\nrecipient=d@e.f\n\n", nil, ErrMalformed},
		{"CR inside a line", "sender=a\rb\n\n", nil, ErrMalformed},
		{"NUL", "sender=a\x00b\n\n", nil, ErrMalformed},
		{"line too long", "sender=" + long + "x\n\n", nil, ErrLineTooLong},
		{"line too long without end", "sender=" + long + long, nil, ErrLineTooLong},
		{"too many attributes", many + "one=more\n\n", nil, ErrTooManyAttributes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadRequest(bufio.NewReader(strings.NewReader(tc.in)))
			switch {
			case tc.err == io.EOF:
				if err != io.EOF {
					t.Fatalf("err = %v, want io.EOF itself", err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if !strings.HasPrefix(err.Error(), "policyd: ") {
					t.Errorf("error %q does not say where it comes from", err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.want != nil && !maps.Equal(r.Attrs, tc.want):
				t.Fatalf("attrs = %q, want %q", r.Attrs, tc.want)
			case tc.want == nil && len(r.Attrs) != MaxAttributes:
				t.Fatalf("%d attributes, want %d", len(r.Attrs), MaxAttributes)
			}
		})
	}
}

func TestReadRequestReadsOneRequestAtATime(t *testing.T) {
	br := bufio.NewReader(strings.NewReader(rcptReq("1.2.3.4", "a@army.mil") + eomReq("1.2.3.4", 1)))
	first, err := ReadRequest(br)
	if err != nil || first.ProtocolState() != StateRcpt || first.Recipient() != "a@army.mil" {
		t.Fatalf("first = %v, %v", first.Attrs, err)
	}
	second, err := ReadRequest(br)
	if err != nil || second.ProtocolState() != StateEOM {
		t.Fatalf("second = %v, %v", second.Attrs, err)
	}
	if _, err := ReadRequest(br); err != io.EOF {
		t.Fatalf("after the last request: %v, want io.EOF", err)
	}
}

func TestRequestAccessors(t *testing.T) {
	r, err := ReadRequest(bufio.NewReader(strings.NewReader(req(StateEOM, "a.b.c.0",
		"sender=alice@contoso.com", "recipient=bob@army.mil", "recipient_count=1", "queue_id=4XyZ",
		"client_address=192.0.2.1", "sasl_username=alice", "size=1234", "protocol_name=SMTP"))))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{r.Type(), r.ProtocolState(), r.ProtocolName(), r.Instance(), r.QueueID(),
		r.Sender(), r.Recipient(), r.ClientAddress(), r.SASLUsername(), r.Get("mail_version"), r.Get("nope")}
	want := []string{RequestType, StateEOM, "SMTP", "a.b.c.0", "4XyZ", "alice@contoso.com",
		"bob@army.mil", "192.0.2.1", "alice", "3.7.11", ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("accessor %d = %q, want %q", i, got[i], want[i])
		}
	}
	if n, ok := r.RecipientCount(); n != 1 || !ok {
		t.Errorf("RecipientCount = %d, %v", n, ok)
	}
	if n, ok := r.Size(); n != 1234 || !ok {
		t.Errorf("Size = %d, %v", n, ok)
	}
	var empty Request
	if _, ok := empty.RecipientCount(); ok {
		t.Error("RecipientCount of an empty request is known")
	}
	if _, ok := (Request{Attrs: map[string]string{"size": "-1"}}).Size(); ok {
		t.Error("negative size accepted")
	}
}

func TestEncodeRefusesWhatCannotBeReadBack(t *testing.T) {
	for _, attrs := range []map[string]string{
		nil,
		{"a": "x\ny"},
		{"a": "x\r"},
		{"a b": "x"},
		{"": "x"},
		{"a=b": "x"},
		{"a": strings.Repeat("x", MaxLineLength)},
	} {
		if b, err := (Request{Attrs: attrs}).Encode(); err == nil {
			t.Errorf("Encode(%q) = %q, want an error", attrs, b)
		}
	}
	b, err := Request{Attrs: map[string]string{"b": "2", "a": "1=1"}}.Encode()
	if err != nil || string(b) != "a=1=1\nb=2\n\n" {
		t.Fatalf("Encode = %q, %v", b, err)
	}
}
