package scan

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func readAliasFile(t *testing.T, n string) *collector {
	t.Helper()
	f, err := os.Open("testdata/" + n)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &collector{}
	if err := AliasesFormat.New().Read(f, n, c.emit, c.skip); err != nil {
		t.Fatalf("%s: %v", n, err)
	}
	return c
}

func TestAliasMapContinuationsIncludesCommandsFiles(t *testing.T) {
	c := readAliasFile(t, "aliases-postfix.txt")
	checkRecords(t, c.recs, []string{
		// postmaster: root is local: no record
		"aliases-postfix.txt:3 root -> admin@example.org msg=aliases-postfix.txt:3 t=- unknown",
		"aliases-postfix.txt:4 info -> sales@example.org msg=aliases-postfix.txt:4 t=- unknown",
		"aliases-postfix.txt:5 info -> chris@gmai.com msg=aliases-postfix.txt:4 t=- unknown",
		// a command and a file give none; a comment line does not end the entry
		"aliases-postfix.txt:9 info -> dana@outlook.con msg=aliases-postfix.txt:4 t=- unknown",
		"aliases-postfix.txt:11 quoted name -> erin@yaho.com msg=aliases-postfix.txt:11 t=- unknown",
	})
	checkProblems(t, c.probs, [][2]string{
		{"aliases-postfix.txt:10", `"/etc/mail/staff.list" is included, not followed`},
		{"aliases-postfix.txt:12", "not an alias entry"},
		{"aliases-postfix.txt:13", `unreadable alias map target "not@@valid"`},
	})
}

func TestVirtualMap(t *testing.T) {
	c := readAliasFile(t, "aliases-virtual.txt")
	checkRecords(t, c.recs, []string{
		"aliases-virtual.txt:3 info@example.net -> frank@gmai.com msg=aliases-virtual.txt:3 t=- unknown",
		"aliases-virtual.txt:4 @example.org -> catchall@example.com msg=aliases-virtual.txt:4 t=- unknown",
		"aliases-virtual.txt:5 sales@example.net -> sam@example.com msg=aliases-virtual.txt:5 t=- unknown",
		"aliases-virtual.txt:6 sales@example.net -> tina@hotmial.com msg=aliases-virtual.txt:5 t=- unknown",
	})
	checkProblems(t, c.probs, nil)
}

func TestDotForwardAndMemberFile(t *testing.T) {
	c := readAliasFile(t, "aliases-dot.forward")
	checkRecords(t, c.recs, []string{
		"aliases-dot.forward:1 aliases-dot.forward -> jdoe@gmai.com msg=aliases-dot.forward:1 t=- unknown",
	})
	checkProblems(t, c.probs, nil)

	c = readAliasFile(t, "aliases-members.txt")
	checkRecords(t, c.recs, []string{
		"aliases-members.txt:2 aliases-members.txt -> amy@example.org msg=aliases-members.txt:2 t=- unknown",
		"aliases-members.txt:3 aliases-members.txt -> ben@gmail.co msg=aliases-members.txt:3 t=- unknown",
		"aliases-members.txt:4 aliases-members.txt -> carl@gmai.com msg=aliases-members.txt:4 t=- unknown",
		"aliases-members.txt:5 aliases-members.txt -> dan@example.org msg=aliases-members.txt:5 t=- unknown",
	})
	checkProblems(t, c.probs, nil)
}

func TestSieveRedirect(t *testing.T) {
	c := readAliasFile(t, "aliases-forward.sieve")
	checkRecords(t, c.recs, []string{
		// the redirect in the bracket comment is not one
		"aliases-forward.sieve:6 aliases-forward.sieve -> accounts@gmai.com msg=aliases-forward.sieve:6 t=- unknown",
		"aliases-forward.sieve:9 aliases-forward.sieve -> me@outlook.con msg=aliases-forward.sieve:9 t=- unknown",
		"aliases-forward.sieve:14 aliases-forward.sieve -> multi@gmial.com msg=aliases-forward.sieve:14 t=- unknown",
	})
	checkProblems(t, c.probs, [][2]string{{"aliases-forward.sieve:13", "built from variables"}})
}

func TestAliasKindsAreToldByContent(t *testing.T) {
	for n, want := range map[string]aliasKind{
		"aliases-postfix.txt": kindAliases, "aliases-virtual.txt": kindVirtual,
		"aliases-dot.forward": kindList, "aliases-members.txt": kindList,
		"aliases-forward.sieve": kindSieve,
	} {
		data, err := os.ReadFile("testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if got := aliasKindOf(data); got != want {
			t.Errorf("%s: %s, want %s", n, kindNames[got], kindNames[want])
		}
		if MboxFormat.Detect(data) || EMLFormat.Detect(data) {
			t.Errorf("%s taken for mail", n)
		}
	}
	for _, text := range []string{"\x00\x01\x02\x03", "Dec  4 20:49:55 host postfix/smtp[1]: x\nDec  4 20:49:56 host y\n", "just some words\nand more\n"} {
		if DetectAliases([]byte(text)) {
			t.Errorf("DetectAliases(%q) = true", text)
		}
		err := ReadAliases(strings.NewReader(text), "x", func(Record) {}, func(Problem) {})
		if err == nil || !strings.Contains(err.Error(), "not a forwards source") {
			t.Errorf("ReadAliases(%q) = %v", text, err)
		}
	}
}

func TestAliasBadLinesGoOnAndGarbageStops(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("a: x@gmai.com\n")
	b.WriteString("b: " + strings.Repeat("y", maxLine+1) + "\n")
	b.WriteString("c: caf\xe9@example.com\n")
	b.WriteString("d: z@gmai.com\n")
	c := &collector{}
	if err := ReadAliases(&b, "al", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, c.recs, []string{
		"al:1 a -> x@gmai.com msg=al:1 t=- unknown",
		"al:4 d -> z@gmai.com msg=al:4 t=- unknown",
	})
	checkProblems(t, c.probs, [][2]string{{"al:2", "line over 1 MB"}, {"al:3", "invalid UTF-8"}})

	// An alias file followed by a flood of garbage: the first problems, then one for the rest.
	b.Reset()
	for range 3000 {
		b.WriteString("a: x@gmai.com\n")
	}
	for range 500 {
		b.WriteString("garbage without colon\n")
	}
	c = &collector{}
	if err := ReadAliases(&b, "al", c.emit, c.skip); err != nil {
		t.Fatal(err)
	}
	if len(c.recs) != 3000 || len(c.probs) != maxAliasProblems+1 || !strings.Contains(c.probs[maxAliasProblems], "rest skipped") {
		t.Errorf("records %d, problems %d (last %q)", len(c.recs), len(c.probs), c.probs[len(c.probs)-1])
	}
}
