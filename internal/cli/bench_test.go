package cli

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkCheckStream measures `rcptguard check` reading addresses from standard input,
// and reports lines per second (the goal is at least 200,000).
func BenchmarkCheckStream(b *testing.B) {
	for _, mode := range []string{"text", "json"} {
		b.Run(mode, func(b *testing.B) {
			var in bytes.Buffer
			words := []string{"gmail.com", "gmial.com", "alice@army.ml", "fabrikam.com", "x@example.org", "bob@wikipedia.org", "hotmail.con", "usibm.com", "navy.mil", "foo@bar.co.uk"}
			const lines = 100_000
			for i := 0; i < lines; i++ {
				if i%2 == 0 {
					in.WriteString(words[i%len(words)])
				} else {
					fmt.Fprintf(&in, "user%d@host%d.example%d.com", i, i*7919%100000, i%7)
				}
				in.WriteByte('\n')
			}
			args := []string{"check", "--protect", "army.mil,.mil"}
			if mode == "json" {
				args = append(args, "--json")
			}
			b.ResetTimer()
			for b.Loop() {
				code := Run(args, Env{Stdin: bytes.NewReader(in.Bytes()), Stdout: io.Discard, Stderr: io.Discard})
				if code != ExitFlagged {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
