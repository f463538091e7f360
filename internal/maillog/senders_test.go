package maillog

import (
	"fmt"
	"strings"
	"testing"
)

func TestSenderMapEvictsOldestAtCap(t *testing.T) {
	s := newSenderMap(3)
	for i := range 5 {
		s.put("mx1", fmt.Sprintf("Q%d", i), fmt.Sprintf("s%d@contoso.com", i))
	}
	for i, want := range []string{"", "", "s2@contoso.com", "s3@contoso.com", "s4@contoso.com"} {
		got, ok := s.get([]byte("mx1"), []byte(fmt.Sprintf("Q%d", i)))
		if got != want || ok != (want != "") {
			t.Errorf("Q%d: %q, %v; want %q", i, got, ok, want)
		}
	}
	// Putting a queue id again makes it the newest.
	s.put("mx1", "Q2", "again@contoso.com")
	s.put("mx1", "Q5", "s5@contoso.com")
	if _, ok := s.get([]byte("mx1"), []byte("Q3")); ok {
		t.Error("Q3 should have been evicted before Q2")
	}
	if got, _ := s.get([]byte("mx1"), []byte("Q2")); got != "again@contoso.com" {
		t.Errorf("Q2 = %q", got)
	}
}

func TestSenderMapKeysByHost(t *testing.T) {
	s := newSenderMap(10)
	s.put("mx1", "4F2A31234", "a@contoso.com")
	s.put("mx2", "4F2A31234", "b@contoso.com")
	s.remove([]byte("mx1"), []byte("4F2A31234"))
	if _, ok := s.get([]byte("mx1"), []byte("4F2A31234")); ok {
		t.Error("mx1's entry not removed")
	}
	if got, _ := s.get([]byte("mx2"), []byte("4F2A31234")); got != "b@contoso.com" {
		t.Errorf("mx2's entry = %q", got)
	}
}

// The order list must stay bounded whether entries leave by removal or by eviction, or
// a long log would grow memory without end.
func TestSenderMapMemoryIsBounded(t *testing.T) {
	for _, removed := range []bool{true, false} {
		s := newSenderMap(100)
		for i := range 20_000 {
			id := fmt.Sprintf("Q%d", i)
			s.put("mx1", id, "a@contoso.com")
			if removed {
				s.remove([]byte("mx1"), []byte(id))
			}
		}
		if s.len() > 100 || cap(s.order) > 4*(2*100+1024) {
			t.Errorf("removed=%v: %d entries, order list of %d (cap %d)", removed, s.len(), len(s.order)-s.head, cap(s.order))
		}
	}
}

// Through ReadPostfix: a log whose messages are never removed keeps at most MaxQueue
// senders, and the newest are still found.
func TestReadPostfixQueueCap(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "Nov 27 10:00:00 mx1 postfix/qmgr[9]: A%08X: from=<s%d@contoso.com>, size=1, nrcpt=1 (queue active)\n", i, i)
	}
	for i := range 50 {
		fmt.Fprintf(&b, "Nov 27 10:00:01 mx1 postfix/smtp[1]: A%08X: to=<r@fabrikam.com>, status=sent (ok)\n", i)
	}
	ds, _ := readAll(t, b.String(), Options{Year: 2026, MaxQueue: 10})
	known := 0
	for i, d := range ds {
		if d.From != "" {
			known++
			if d.From != fmt.Sprintf("s%d@contoso.com", i) || i < 40 {
				t.Errorf("delivery %d: from %q", i, d.From)
			}
		}
	}
	if known != 10 {
		t.Errorf("%d senders known, want the newest 10", known)
	}
}
