package engine

import (
	"hash/maphash"
	"strings"
	"sync"
)

// nameSet is a set of byte strings held in an arena: each slot keeps a key's offset and
// length in the arena and some bits of its hash, so that PermuteWide can deduplicate tens
// of thousands of names without a string, or a map entry, for each.
type nameSet struct {
	seed  maphash.Seed
	arena *strings.Builder // the keys' bytes: written once, never rewritten
	slots []uint64         // 0: empty; else offset<<32 | length<<24 | 24 bits of the hash
	n     int
}

// newNameSet makes a set for about n keys held in *arena, which must not be empty (offset
// 0 is never a key's).
func newNameSet(seed maphash.Seed, arena *strings.Builder, n int) nameSet {
	size := 64
	for size*3 < n*4 {
		size *= 2
	}
	var slots []uint64
	if p, ok := slotPool.Get().(*[]uint64); ok && cap(*p) >= size {
		slots = (*p)[:size]
		clear(slots)
	} else {
		slots = make([]uint64, size)
	}
	return nameSet{seed: seed, arena: arena, slots: slots}
}

// slotPool keeps the slots of sets no longer used (release): PermuteWide makes a set of
// tens of kilobytes for each domain, garbage at once without it.
var slotPool sync.Pool

// release gives the set's slots back for another set; s is empty after it.
func (s *nameSet) release() {
	slots := s.slots[:0]
	slotPool.Put(&slots)
	*s = nameSet{}
}

func nameTag(h uint64) uint64 { return h >> 40 }

// find returns where key is, or would go, and whether it is there.
func (s *nameSet) find(key []byte) (pos int, h uint64, found bool) {
	h = maphash.Bytes(s.seed, key)
	arena := s.arena.String() // no copy
	mask := len(s.slots) - 1
	tag := nameTag(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := s.slots[i]
		if e == 0 {
			return i, h, false
		}
		if e&0xffffff == tag && int(e>>24&0xff) == len(key) {
			off := int(e >> 32)
			if arena[off:off+len(key)] == string(key) {
				return i, h, true
			}
		}
	}
}

// put records the key at arena.String()[off:off+n], whose hash is h, at pos (from find,
// with no put since). A key is at most 255 bytes (a domain name is at most 253) and the
// arena less than 4 GB; off is never 0, so no slot in use is 0.
func (s *nameSet) put(pos int, h uint64, off, n int) {
	s.slots[pos] = uint64(off)<<32 | uint64(n)<<24 | nameTag(h)
	s.n++
	if s.n*4 > len(s.slots)*3 {
		s.grow()
	}
}

// add puts key in the set unless it is there, copying it to the arena, and says whether
// it was new.
func (s *nameSet) add(key []byte) bool {
	pos, h, found := s.find(key)
	if found {
		return false
	}
	off := s.arena.Len()
	s.arena.Write(key)
	s.put(pos, h, off, len(key))
	return true
}

func (s *nameSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	arena := s.arena.String()
	mask := len(s.slots) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		off, n := int(e>>32), int(e>>24&0xff)
		h := maphash.String(s.seed, arena[off:off+n])
		i := int(h) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = e
	}
}
