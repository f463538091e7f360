package engine

// Keyboard neighbours on QWERTY, QWERTZ and AZERTY layouts (letters and digits), and the
// ASCII characters that look alike in common fonts. Tables, not logic: both the detector
// and the generator read them.

var keyRows = [...]string{
	"1234567890",
	"qwertyuiop",
	"asdfghjkl",
	"zxcvbnm",
}

// adjacent[a] is a bit set of the bytes next to a on a keyboard (index by byte - '0').
var adjacent = buildAdjacent()

func buildAdjacent() (adj [128]uint64) {
	pos := map[byte][2]int{}
	for r, row := range keyRows {
		for c := 0; c < len(row); c++ {
			// Rows are staggered by about half a key; columns line up well enough.
			pos[row[c]] = [2]int{r, c}
		}
	}
	link := func(a, b byte) {
		adj[a] |= 1 << bit(b)
		adj[b] |= 1 << bit(a)
	}
	for a, pa := range pos {
		for b, pb := range pos {
			if a == b {
				continue
			}
			dr, dc := pb[0]-pa[0], pb[1]-pa[1]
			switch {
			case dr == 0 && (dc == 1 || dc == -1):
				link(a, b)
			case dr == 1 && (dc == 0 || dc == -1): // the row below sits half a key right
				link(a, b)
			}
		}
	}
	// QWERTZ swaps y and z; AZERTY swaps a/q and z/w and moves m next to l.
	link('y', 't')
	link('y', 'u')
	link('y', 'h')
	link('z', 't')
	link('z', 'u')
	link('a', 'z')
	link('q', 's')
	link('w', 'x')
	link('m', 'l')
	return adj
}

// bit maps the characters of a domain label to 0..37.
func bit(c byte) uint {
	switch {
	case c >= 'a' && c <= 'z':
		return uint(c - 'a')
	case c >= '0' && c <= '9':
		return 26 + uint(c-'0')
	case c == '-':
		return 36
	}
	return 37
}

func isAdjacent(a, b byte) bool {
	return a < 128 && b < 128 && adjacent[a]&(1<<bit(b)) != 0
}

// visualPairs are single ASCII characters that are read as one another.
var visualPairs = [...][2]byte{
	{'0', 'o'}, {'1', 'l'}, {'1', 'i'}, {'l', 'i'}, {'5', 's'}, {'q', 'g'}, {'u', 'v'},
}

func isVisualPair(a, b byte) bool {
	for _, p := range visualPairs {
		if p[0] == a && p[1] == b || p[0] == b && p[1] == a {
			return true
		}
	}
	return false
}

// visualRuns are multi-character sequences read as one character.
var visualRuns = [...][2]string{
	{"rn", "m"}, {"vv", "w"}, {"cl", "d"},
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// isBitflip reports whether a and b differ in exactly one bit.
func isBitflip(a, b byte) bool {
	x := a ^ b
	return x != 0 && x&(x-1) == 0
}

// ldh reports whether c may appear in an ASCII domain label.
func ldh(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
}
