package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// oneSender is a guard.SenderHistory in which alice wrote to gmial.com 12 times.
type oneSender struct{}

func (oneSender) Familiar(_ context.Context, sender, domain string) (int64, time.Time, time.Time, error) {
	if sender == "alice@contoso.com" && domain == "gmial.com" {
		first := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
		return 12, first, first.AddDate(0, 1, 0), nil
	}
	return 0, time.Time{}, time.Time{}, nil
}

// TestCheckWithASenderUsesTheSendersHistory: a request that names its sender is decided
// with that sender's own history; without a sender, or from another, it is not.
func TestCheckWithASenderUsesTheSendersHistory(t *testing.T) {
	a, srv := newAPI(t)
	a.Guard.Store(a.Guard.Load().WithSenders(guard.SenderRule{History: oneSender{}, Min: 5}))
	for body, want := range map[string]string{
		`{"sender":"alice@contoso.com","recipients":["bob@gmial.com"]}`: "allow",
		`{"sender":"carol@contoso.com","recipients":["bob@gmial.com"]}`: "hold",
		`{"recipients":["bob@gmial.com"]}`:                              "hold",
	} {
		code, res := post(t, srv.URL, body)
		if code != 200 || res.Verdict != want || len(res.Recipients) != 1 {
			t.Errorf("%s: %d %+v; want %s", body, code, res, want)
			continue
		}
		if want == "allow" && res.Recipients[0].Reason != "You have written to gmial.com 12 times since 3 March 2026." {
			t.Errorf("reason %q", res.Recipients[0].Reason)
		}
	}
}
