package knownfile

import (
	"strings"
	"testing"
)

// FuzzRead: Read never panics; on success every entry is a valid, distinct domain with a
// non-negative count, and on failure the error names the file and a line.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"", "army.mil\n", "army.mil 12\r\nnavy.mil\t7 # c\n", "# c\n\n  \n", "\ufeffa.com 1\na.com 2\n",
		"mil 3\n", "a.com x\n", "a.com -1\n", "a.com 1 2\n", "bücher.de 9223372036854775807\nxn--bcher-kva.de 5\n",
		"a.com 9223372036854775808\n", "10.0.0.1\n", "\xff\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Read(strings.NewReader(string(data)), "k.txt")
		if err != nil {
			if entries != nil {
				t.Fatal("entries with an error")
			}
			if !strings.HasPrefix(err.Error(), "k.txt:") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name the file and line on one line", err)
			}
			return
		}
		seen := make(map[string]bool)
		for _, e := range entries {
			if e.Count < 0 || e.Domain.ASCII == "" || seen[e.Domain.ASCII] {
				t.Fatalf("bad entry %+v in %v", e, entries)
			}
			seen[e.Domain.ASCII] = true
		}
	})
}
