package engine

import "testing"

func TestEffectiveLenIsTheEditedLabel(t *testing.T) {
	for _, c := range []struct {
		target string
		pos    int
		want   int
	}{
		{"gmail", 2, 5},
		{"gmail", -1, 5},
		{"us.ibm", 3, 4},  // the "i" of ibm
		{"us.ibm", 5, 4},  // the "m" of ibm
		{"us.ibm", 0, 3},  // the "u" of us
		{"us.ibm", 2, 3},  // the dot: the shorter neighbour
		{"us.ibm", 6, 4},  // after the end: an addition to ibm
		{"us.ibm", -1, 6}, // the whole string
		{"mail.army", 6, 5},
	} {
		if got := effectiveLen(Omission, c.target, c.pos); got != c.want {
			t.Errorf("effectiveLen(%q, %d) = %d, want %d", c.target, c.pos, got, c.want)
		}
	}
	if got := effectiveLen(SuffixTypo, "us.ibm", 3); got != 6 {
		t.Errorf("suffix typo: %d", got)
	}
}

// TestEffectiveLenIgnoresThePlaceInOneLabel: in a single label the place of an edit never
// changes its length, for any technique, which is why Permute does not look for the place
// there (its names are then the same as with it).
func TestEffectiveLenIgnoresThePlaceInOneLabel(t *testing.T) {
	for _, target := range []string{"a", "ibm", "gmail", "wingtiptoy", "t-online", "münchen"} {
		for _, tech := range Techniques() {
			whole := effectiveLen(tech, target, -1)
			for pos := 0; pos <= len([]rune(target))+1; pos++ {
				if got := effectiveLen(tech, target, pos); got != whole {
					t.Errorf("effectiveLen(%s, %q, %d) = %d, for the whole label %d", tech, target, pos, got, whole)
				}
			}
		}
	}
}
