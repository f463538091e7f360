package guard_test

import (
	"strings"
)

// An independent lookalike generator for the quality benchmark, written from dnstwist's
// list of fuzzers (its documentation names them: addition, bitsquatting, homoglyph,
// hyphenation, insertion, omission, repetition, replacement, subdomain, transposition,
// vowel-swap, tld-swap), not from the engine: the engine's own generator and detector
// share their description of each technique, so a test of one against the other cannot
// find what both miss.

// lookalike is one generated name and the technique that made it.
type lookalike struct {
	name, technique string
}

// qwerty are the neighbours of each key on a US keyboard (letters and digits).
var qwerty = map[byte]string{
	'1': "2q", '2': "13wq", '3': "24ew", '4': "35re", '5': "46tr", '6': "57yt", '7': "68uy", '8': "79iu", '9': "80oi", '0': "9po",
	'q': "12wa", 'w': "23qeas", 'e': "34wrsd", 'r': "45etdf", 't': "56ryfg", 'y': "67tugh", 'u': "78yihj", 'i': "89uojk", 'o': "90ipkl", 'p': "0ol",
	'a': "qwsz", 's': "weadzx", 'd': "erfcxs", 'f': "rtgvcd", 'g': "tyhbvf", 'h': "yujnbg", 'j': "uikmnh", 'k': "iolmj", 'l': "opk",
	'z': "asx", 'x': "zsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
}

// glyphs are characters that look like others, ASCII and the common Cyrillic ones.
var glyphs = map[string][]string{
	"o": {"0", "о"}, "0": {"o"}, "l": {"1", "i"}, "i": {"1", "l", "і"}, "1": {"l", "i"},
	"m": {"rn", "nn"}, "w": {"vv"}, "d": {"cl"}, "a": {"а"}, "e": {"е"}, "c": {"с"}, "p": {"р"},
	"x": {"х"}, "y": {"у"}, "s": {"ѕ"}, "rn": {"m"}, "vv": {"w"}, "cl": {"d"},
}

// suffixSlips are mistyped forms of common suffixes (dnstwist's tld-swap idea, with typos
// of the suffix itself).
var suffixSlips = map[string][]string{
	"com": {"co", "cm", "om", "con", "cmo", "ocm", "comm", "vom", "xom"},
	"mil": {"ml", "mi", "il", "mill", "mli", "nil"},
	"net": {"ne", "nt", "et", "nte", "bet"},
	"org": {"or", "og", "rg", "ogr", "orgg"},
}

// generate returns the lookalikes of domain (ASCII, lower case), without duplicates and
// without domain itself.
func generate(domain string) []lookalike {
	// The label edited is the one left of the suffix (the benchmark's targets have
	// one-label suffixes): in us.ibm.com, ibm; a name under the same registrable domain
	// (usa.ibm.com) is its owner's, not a lookalike.
	labels := strings.Split(domain, ".")
	prefix := strings.Join(labels[:len(labels)-2], ".")
	if prefix != "" {
		prefix += "."
	}
	label, rest := labels[len(labels)-2], labels[len(labels)-1]
	seen := map[string]bool{domain: true}
	var out []lookalike
	add := func(l, tech string) {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") || strings.HasPrefix(l, ".") || strings.HasSuffix(l, ".") {
			return
		}
		name := prefix + l + "." + rest
		if !seen[name] {
			seen[name] = true
			out = append(out, lookalike{name, tech})
		}
	}
	n := len(label)
	for c := 'a'; c <= 'z'; c++ {
		add(label+string(c), "addition")
	}
	for i := 0; i < n; i++ {
		for bit := 0; bit < 8; bit++ {
			b := label[i] ^ 1<<bit
			if b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' {
				add(label[:i]+string(b)+label[i+1:], "bitsquatting")
			}
		}
		for from, tos := range glyphs {
			if strings.HasPrefix(label[i:], from) {
				for _, to := range tos {
					add(label[:i]+to+label[i+len(from):], "homoglyph")
				}
			}
		}
		if i > 0 {
			add(label[:i]+"-"+label[i:], "hyphenation")
			add(label[:i]+"."+label[i:], "subdomain")
		}
		for _, k := range qwerty[label[i]] {
			add(label[:i]+string(k)+label[i:], "insertion")
			add(label[:i+1]+string(k)+label[i+1:], "insertion")
			add(label[:i]+string(k)+label[i+1:], "replacement")
		}
		add(label[:i]+label[i+1:], "omission")
		add(label[:i+1]+label[i:], "repetition")
		if i+1 < n && label[i] != label[i+1] {
			add(label[:i]+string(label[i+1])+string(label[i])+label[i+2:], "transposition")
		}
		if strings.IndexByte("aeiou", label[i]) >= 0 {
			for _, v := range "aeiou" {
				if byte(v) != label[i] {
					add(label[:i]+string(v)+label[i+1:], "vowel-swap")
				}
			}
		}
	}
	// Suffix slips of the last label.
	if i := strings.LastIndexByte(domain, '.'); i > 0 {
		for _, s := range suffixSlips[domain[i+1:]] {
			name := domain[:i+1] + s
			if !seen[name] {
				seen[name] = true
				out = append(out, lookalike{name, "tld-swap"})
			}
		}
	}
	// A dot dropped inside a name with a sub-domain (us.ibm.com -> usibm.com).
	if prefix != "" {
		name := strings.TrimSuffix(prefix, ".") + label + "." + rest
		if !seen[name] {
			seen[name] = true
			out = append(out, lookalike{name, "dot-drop"})
		}
	}
	return out
}

// compounds returns lookalikes of domain with a typing slip in the label and a slip of
// the suffix at once (gnail.con): dnstwist's fuzzers one after the other.
func compounds(domain string) []lookalike {
	i := strings.LastIndexByte(domain, '.')
	slips := suffixSlips[domain[i+1:]]
	var out []lookalike
	for _, l := range generate(domain) {
		switch l.technique {
		case "omission", "repetition", "transposition", "replacement", "insertion":
		default:
			continue
		}
		base := l.name[:strings.LastIndexByte(l.name, '.')+1]
		for _, s := range slips {
			out = append(out, lookalike{base + s, "compound"})
		}
	}
	return out
}

// genericSwaps are dnstwist's tld-swap among the generic top-level domains: contoso.net
// and contoso.org for contoso.com.
func genericSwaps(domain string) []lookalike {
	i := strings.LastIndexByte(domain, '.')
	var out []lookalike
	for _, tld := range []string{"com", "net", "org", "info", "biz"} {
		if tld != domain[i+1:] {
			out = append(out, lookalike{domain[:i+1] + tld, "generic-swap"})
		}
	}
	return out
}

// cyrillic are Cyrillic letters that look like Latin ones, for mixed-script names.
var cyrillic = map[byte]string{'a': "а", 'e': "е", 'o': "о", 'p': "р", 'c': "с", 'x': "х", 'y': "у", 's': "ѕ", 'i': "і"}

// mixedScript puts one Cyrillic look-alike letter into the first label of domain
// (раypal.com), or returns "" when the label has none of those letters.
func mixedScript(domain string) string {
	for i := 0; i < len(domain) && domain[i] != '.'; i++ {
		if r, ok := cyrillic[domain[i]]; ok {
			return domain[:i] + r + domain[i+1:]
		}
	}
	return ""
}
