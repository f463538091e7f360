package history

import "testing"

// FuzzNormalSender: the normal form of a sender is a fixed point (Record accepts what the
// Learner gives it), and the null sender never has one.
func FuzzNormalSender(f *testing.F) {
	for _, s := range []string{"alice@contoso.com", "<Alice@CONTOSO.COM>", `"Smith, A" <a.smith@münchen.de>`,
		`"a b"@contoso.com`, "<@relay.example:alice@contoso.com>", "alice(comment)@contoso.com", "<>", "", "contoso.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalSender(s)
		if err != nil {
			return
		}
		if s == "" || s == "<>" {
			t.Fatalf("NormalSender(%q) = %q for the null sender", s, n)
		}
		again, err := NormalSender(n)
		if err != nil || again != n {
			t.Fatalf("NormalSender(%q) = %q, but NormalSender(%q) = %q, %v", s, n, n, again, err)
		}
		if err := checkSender(map[string]bool{}, n); err != nil {
			t.Fatalf("Record refuses the normal form %q: %v", n, err)
		}
	})
}
