package engine

// idTable finds the id already given to a string while the engine is built: an
// open-addressing table of ids keyed by the strings' hashes, a tenth of the memory of a
// map from the strings (it holds no strings, the caller compares them) and without its
// growing, as the number of strings is known. A slot holds the top half of the hash, so
// that the caller is asked to compare strings only when the hashes very likely match.
type idTable struct {
	mask  uint64
	slots []uint64 // 0 for empty, else the top 32 bits of the hash and 1 + an id
}

// newIDTable makes a table for up to n ids, at most half full.
func newIDTable(n int) idTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return idTable{mask: uint64(size - 1), slots: make([]uint64, size)}
}

// add returns the id under hash h for which same is true, and true; or, when there is
// none, stores id under h and returns it and false. At most n ids can be stored.
func (t *idTable) add(h uint64, id uint32, same func(id uint32) bool) (uint32, bool) {
	top := h &^ (1<<32 - 1)
	for j := h & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s == 0 {
			t.slots[j] = top | uint64(id+1)
			return id, false
		}
		if s&^(1<<32-1) == top && same(uint32(s)-1) {
			return uint32(s) - 1, true
		}
	}
}

// touch loads the first slot of each hash, so that the cache misses of the adds that
// follow overlap; the result means nothing.
func (t *idTable) touch(hs []uint64) (x uint64) {
	for _, h := range hs {
		x += t.slots[h&t.mask]
	}
	return x
}
