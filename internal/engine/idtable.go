package engine

// idTable finds the id already given to a string while the engine is built: an
// open-addressing table of ids keyed by the strings' hashes, a twentieth of the memory of
// a map from the strings (it holds no strings, the caller compares them) and without its
// growing, as the number of strings is known.
type idTable struct {
	mask  uint64
	slots []uint32 // 0 for empty, else 1 + an id
}

// newIDTable makes a table for up to n ids, at most half full.
func newIDTable(n int) idTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return idTable{mask: uint64(size - 1), slots: make([]uint32, size)}
}

// add returns the id under hash h for which same is true, and true; or, when there is
// none, stores id under h and returns it and false. At most n ids can be stored.
func (t *idTable) add(h uint64, id uint32, same func(id uint32) bool) (uint32, bool) {
	for j := h & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s == 0 {
			t.slots[j] = id + 1
			return id, false
		}
		if same(s - 1) {
			return s - 1, true
		}
	}
}
