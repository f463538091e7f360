package engine

import "unicode/utf8"

// The index maps hashed keys to candidate ids. Keys are a kind byte plus a string: a
// candidate's full name, its label part together with each one-character deletion of it
// (the deletion neighbourhood: two strings within one edit share a key), and its visual
// skeleton.
//
// It is an open-addressing hash table of 8-byte slots (a 32-bit fingerprint and a 32-bit
// id), probed linearly, so a lookup usually touches one cache line, and a million
// candidates with ten keys each take about 130 MB and no pointers. Every hit is verified
// against the candidate itself, so a fingerprint collision costs time, never a wrong
// answer. Equal keys of different candidates simply sit side by side.

type keyKind byte

const (
	kindName keyKind = iota + 1 // the full ASCII name
	kindNear                    // the label part, and each one-character deletion of it
	kindSkel                    // the visual skeleton of the label part
)

type slot struct {
	fp uint32 // never 0 in a used slot
	id uint32
}

type index struct {
	shift uint
	mask  uint64
	slots []slot
	sink  uint32 // keeps the prefetching loads of the build alive
}

// builder fills an index sized for a known number of keys. Keys are inserted in small
// batches whose slots are touched first, so that their cache misses overlap instead of
// coming one after another.
type builder struct {
	ix   index
	hs   [32]uint64
	ids  [32]uint32
	n    int
	sink uint32
}

func (b *builder) init(keys int) {
	bits := uint(4)
	for float64(uint64(1)<<bits)*0.72 < float64(keys) && bits < 32 {
		bits++
	}
	b.ix = index{shift: 64 - bits, mask: 1<<bits - 1, slots: make([]slot, 1<<bits)}
}

func (b *builder) add(h uint64, id uint32) {
	b.hs[b.n], b.ids[b.n] = h, id
	if b.n++; b.n == len(b.hs) {
		b.flush()
	}
}

func (b *builder) flush() {
	ix := &b.ix
	b.sink += ix.touch(b.hs[:b.n])
	for i, h := range b.hs[:b.n] {
		j := h >> ix.shift
		for ix.slots[j].fp != 0 {
			j = (j + 1) & ix.mask
		}
		ix.slots[j] = slot{fp: fingerprint(h), id: b.ids[i]}
	}
	b.n = 0
}

func (b *builder) finish() index {
	b.flush()
	b.ix.sink = b.sink
	return b.ix
}

// touch loads the first slot of each hash, so that the cache misses of several lookups
// overlap; the result means nothing but keeps the loads from being optimised away.
func (ix *index) touch(hs []uint64) uint32 {
	if len(ix.slots) == 0 {
		return 0
	}
	var x uint32
	for _, h := range hs {
		x += ix.slots[h>>ix.shift].fp
	}
	return x
}

func fingerprint(h uint64) uint32 { return uint32(h) | 1 }

// lookup calls f for every id stored under hash h, until f returns false.
func (ix *index) lookup(h uint64, f func(id uint32) bool) {
	if len(ix.slots) == 0 {
		return
	}
	fp := fingerprint(h)
	for j := h >> ix.shift; ; j = (j + 1) & ix.mask {
		s := ix.slots[j]
		if s.fp == 0 {
			return
		}
		if s.fp == fp && !f(s.id) {
			return
		}
	}
}

// FNV-1a, 64 bit, with a final mix so that the top bits (the bucket) depend on every byte.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func hashKey(k keyKind, s string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(k)) * fnvPrime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return mix(h)
}

// deletions calls f with the hash, as kind k, of each distinct one-character deletion of s.
// The hash of the part before the deletion is carried forward, so each deletion costs only
// the bytes after it.
func deletions(k keyKind, s string, f func(h uint64)) {
	prefix := (uint64(fnvOffset) ^ uint64(k)) * fnvPrime
	prevLo, prevHi := -1, -1
	for lo := 0; lo < len(s); {
		size := 1
		if s[lo] >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(s[lo:])
		}
		hi := lo + size
		// Deleting either of two equal neighbours gives the same string: hash it once.
		if prevLo < 0 || s[prevLo:prevHi] != s[lo:hi] {
			h := prefix
			for i := hi; i < len(s); i++ {
				h = (h ^ uint64(s[i])) * fnvPrime
			}
			f(mix(h))
		}
		for i := lo; i < hi; i++ {
			prefix = (prefix ^ uint64(s[i])) * fnvPrime
		}
		prevLo, prevHi = lo, hi
		lo = hi
	}
}
