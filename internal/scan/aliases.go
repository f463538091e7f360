package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// The forwards and aliases audit (`scan --aliases`): every automatic forward is a standing
// leak no sender sees. ReadAliases reads the text sources of Postfix alias and virtual
// maps, .forward files, Sieve scripts and mailing-list member files, and gives one Record
// per forward target address: Sender is what it forwards from (the alias, the virtual
// pattern, the file), Recipient the target, Outcome Unknown, Message "file:line".
//
// Targets that stay on the machine are not forwards and give no record: a command
// ("|cmd"), a file ("/path"), a local user ("\user", "bob"). An ":include:/path" is not
// followed (the file may be on another host): it is a Problem naming it, to be scanned too.

// AliasesFormat reads forwards and aliases. Its Detect recognises alias maps, virtual maps
// and Sieve scripts by content; a plain list of addresses (a .forward, a member file) is
// detected too, so the core must try this format only under --aliases (where it reads
// every source), never among the formats of an ordinary scan.
var AliasesFormat = Format{Name: "aliases", Detect: DetectAliases, New: func() Reader { return aliasReader{} }}

type aliasReader struct{}

func (aliasReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	return ReadAliases(r, name, emit, skip)
}

// aliasKind is the kind of a forwards source.
type aliasKind int

const (
	kindNone    aliasKind = iota
	kindAliases           // name: target, target
	kindVirtual           // pattern  target, target
	kindList              // target, target (a .forward; a member file, one a line)
	kindSieve             // redirect "target";
)

var kindNames = [...]string{"none", "alias map", "virtual map", "address list", "Sieve script"}

// maxAliasProblems is how many Problems one forwards source may give before the rest of
// it is skipped: past it, the source is not the text it was taken for (binary garbage).
const maxAliasProblems = 100

// DetectAliases reports whether a source beginning with head reads as a forwards source.
func DetectAliases(head []byte) bool { return aliasKindOf(head) != kindNone }

var sieveStart = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*(require\s*[\["]|redirect\s+(:[a-zA-Z]+\s+)*"|if\s+(header|address|envelope|allof|anyof|not|exists|true|size)\b)`)
})

// aliasKindOf tells from a source's beginning which kind it is.
func aliasKindOf(head []byte) aliasKind {
	if bytes.IndexByte(head, 0) >= 0 {
		return kindNone
	}
	if sieveStart().Match(head) {
		return kindSieve
	}
	var aliases, virtual, list, other int
	lines := bytes.Split(head, []byte("\n"))
	if len(head) > 0 && head[len(head)-1] != '\n' && len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		s := strings.TrimRight(string(l), "\r")
		t := strings.TrimSpace(s)
		if t == "" || t[0] == '#' || s[0] == ' ' || s[0] == '\t' {
			continue
		}
		switch {
		case aliasKeyLen(t) > 0:
			aliases++
		case isVirtualLine(t):
			virtual++
		case looksLikeTargets(t):
			list++
		default:
			other++
		}
	}
	switch {
	case aliases+virtual+list == 0 || other > aliases+virtual+list:
		return kindNone
	case aliases >= virtual && aliases >= list:
		return kindAliases
	case virtual > list:
		return kindVirtual
	}
	return kindList
}

// aliasKeyLen returns the length of an alias map line's "name:" (quoted names allowed),
// or 0 when the line does not begin with one.
func aliasKeyLen(t string) int {
	if strings.HasPrefix(t, ":include:") {
		return 0
	}
	i := 0
	if strings.HasPrefix(t, `"`) {
		j := strings.IndexByte(t[1:], '"')
		if j < 0 {
			return 0
		}
		i = j + 2
	} else {
		for i < len(t) && t[i] != ':' && t[i] != ' ' && t[i] != '\t' && t[i] != ',' && t[i] != '"' && t[i] != '<' {
			i++
		}
		if i == 0 {
			return 0
		}
	}
	rest := strings.TrimLeft(t[i:], " \t")
	if !strings.HasPrefix(rest, ":") {
		return 0
	}
	return len(t) - len(rest) + 1
}

// isVirtualLine reports whether a line reads as "pattern  target[, target]" with a
// forwarding target (an address, or several).
func isVirtualLine(t string) bool {
	f := strings.Fields(t)
	if len(f) < 2 || strings.HasSuffix(f[0], ",") || strings.ContainsAny(f[0], `<>"(`) || !strings.ContainsAny(f[0], "@.") {
		return false
	}
	value := strings.Join(f[1:], " ")
	return strings.HasPrefix(f[0], "@") || strings.Contains(value, "@") || strings.Contains(value, ",")
}

// looksLikeTargets reports whether a line reads as forward targets (addresses, commands,
// files, local users), as in a .forward or a member file.
func looksLikeTargets(t string) bool {
	switch t[0] {
	case '|', '/', '\\', '"':
		return true
	}
	return strings.Contains(t, "@") || strings.HasPrefix(t, ":include:")
}

// ReadAliases reads one forwards source, of the kind its beginning shows, and gives a
// Record per forward target address (see the package's forwards audit). A source of no
// known kind is an error naming what was expected.
func ReadAliases(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %w", name, err)
	}
	kind := aliasKindOf(head)
	if kind == kindNone {
		if len(bytes.TrimSpace(head)) == 0 {
			return nil // empty: no forward
		}
		return fmt.Errorf("%s: not a forwards source (expected a Postfix alias or virtual map, a .forward, a Sieve script or a list of addresses)", name)
	}
	problems := 0
	var errTooMany = errors.New("too many problems")
	limited := func(p Problem) {
		problems++
		if problems <= maxAliasProblems {
			skip(p)
		}
	}
	if kind == kindSieve {
		return readSieve(br, name, emit, limited)
	}
	err = readAliasLines(br, name, kind, emit, limited, func() error {
		if problems > maxAliasProblems {
			return errTooMany
		}
		return nil
	})
	if errors.Is(err, errTooMany) {
		skip(Problem{Source: name, Text: fmt.Sprintf("over %d unreadable lines: not a %s after all? rest skipped", maxAliasProblems, kindNames[kind])})
		return nil
	}
	return err
}
