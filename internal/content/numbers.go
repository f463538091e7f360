package content

// Hand-written finders for the number shapes that regular expressions find
// slowly (they backtrack at every digit of a line full of figures).

// cardCandidates calls f with each run of 13 to 19 digits, unbroken or
// broken by single spaces or dashes, that stands alone (no word character
// before or after).
func cardCandidates(s string, f func(string)) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		j, n := i, 0
		end := i
		for j < len(s) {
			if isDigit(s[j]) {
				n++
				j++
				end = j
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) && n < 20 {
				j++
				continue
			}
			break
		}
		if n >= 13 && n <= 19 && (end == len(s) || !isWordByte(s[end])) {
			f(s[i:end])
		}
		i = end
	}
}

// ibanCandidates calls f with each run that starts like an IBAN (two
// capitals and two digits at a word start) followed by capitals, digits and
// single spaces, at most 42 bytes.
func ibanCandidates(s string, f func(string)) {
	for i := 0; i+4 <= len(s); i++ {
		if !isUpper(s[i]) || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		j := i + 4
		for j < len(s) && j-i < 42 {
			if isUpper(s[j]) || isDigit(s[j]) {
				j++
				continue
			}
			if s[j] == ' ' && j+1 < len(s) && (isUpper(s[j+1]) || isDigit(s[j+1])) {
				j++
				continue
			}
			break
		}
		f(s[i:j])
		i = j - 1
	}
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
