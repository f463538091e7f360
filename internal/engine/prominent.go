package engine

import (
	"math/bits"
	"slices"
)

// prominenceFactor: a known correspondent is prominent, a neighbour worth holding mail
// for, when it received at least this many times the mail of the median known
// correspondent (and at least strongCount messages). The rest are ordinary: in a dense
// namespace (universities, towns, agencies with acronyms) a new name one slip from an
// ordinary correspondent is usually another real party, so it is worth a warning at most.
// The rule is relative, so it does not depend on how much mail the organisation sends.
const prominenceFactor = 4

// prominenceSample is the number of known correspondents from which their median says
// something; with fewer, every one with strongCount messages or more is prominent.
const prominenceSample = 100

// prominence is the message count from which a known correspondent is prominent: the
// larger of strongCount and prominenceFactor times the median count of the candidates
// that are only known (not own, protected or providers), or strongCount when there are
// fewer than prominenceSample of them. It costs two passes and no sort
// of the whole set: a histogram by bit length finds the median's bucket, and only that
// bucket is sorted.
func prominence(cands []candidate) int64 {
	var hist [65]int
	n := 0
	for i := range cands {
		if c := &cands[i]; ordinaryClass(c.class) {
			hist[bits.Len64(uint64(c.count))]++
			n++
		}
	}
	if n < prominenceSample {
		return strongCount
	}
	rank := (n - 1) / 2 // the lower median, 0-based
	b := 0
	for ; rank >= hist[b]; b++ {
		rank -= hist[b]
	}
	in := make([]int64, 0, hist[b])
	for i := range cands {
		if c := &cands[i]; ordinaryClass(c.class) && bits.Len64(uint64(c.count)) == b {
			in = append(in, c.count)
		}
	}
	slices.Sort(in)
	median := in[rank]
	if median > (1<<62)/prominenceFactor {
		return 1 << 62
	}
	return max(strongCount, prominenceFactor*median)
}

// ordinaryClass reports whether a candidate of class c is a known correspondent only.
func ordinaryClass(c Class) bool { return c&Known != 0 && c&(Own|Protect|Provider) == 0 }
