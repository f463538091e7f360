package engine

import "unicode/utf8"

// The index maps hashed keys to candidate ids. Keys are a kind byte plus a string: a
// candidate's label part, each one-character deletion of it (the deletion neighbourhood:
// two strings within one edit share a key), its visual skeleton, and its full name.
//
// It stores only a 32-bit fingerprint and a 32-bit id per key, bucketed by the top bits of
// the hash with a counting sort, so a million candidates with ten keys each take about
// 100 MB and no pointers. Every hit is verified against the candidate itself, so a
// fingerprint collision costs time, never a wrong answer.

type keyKind byte

const (
	kindName keyKind = iota + 1 // the full ASCII name
	kindPre                     // the label part (before the public suffix), display form
	kindDel                     // the label part with one character deleted
	kindSkel                    // the visual skeleton of the label part
)

type slot struct {
	fp uint32
	id uint32
}

type index struct {
	shift  uint
	starts []uint32 // bucket b holds slots[starts[b]:starts[b+1]]
	slots  []slot
}

// pending collects keys before the index is built.
type pending struct {
	hashes []uint64
	ids    []uint32
}

func (p *pending) add(h uint64, id uint32) {
	p.hashes = append(p.hashes, h)
	p.ids = append(p.ids, id)
}

func (p *pending) build() index {
	n := len(p.hashes)
	bits := uint(4)
	for 1<<bits < n/2 && bits < 30 {
		bits++
	}
	ix := index{shift: 64 - bits, starts: make([]uint32, 1<<bits+1), slots: make([]slot, n)}
	for _, h := range p.hashes {
		ix.starts[h>>ix.shift+1]++
	}
	for b := 1; b < len(ix.starts); b++ {
		ix.starts[b] += ix.starts[b-1]
	}
	fill := make([]uint32, 1<<bits)
	copy(fill, ix.starts[:len(fill)])
	for i, h := range p.hashes {
		b := h >> ix.shift
		ix.slots[fill[b]] = slot{fp: uint32(h), id: p.ids[i]}
		fill[b]++
	}
	return ix
}

// lookup calls f for every id stored under hash h, until f returns false.
func (ix *index) lookup(h uint64, f func(id uint32) bool) {
	if len(ix.slots) == 0 {
		return
	}
	b := h >> ix.shift
	fp := uint32(h)
	for _, s := range ix.slots[ix.starts[b]:ix.starts[b+1]] {
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

// hashSkip hashes s without the bytes s[lo:hi], as kind k.
func hashSkip(k keyKind, s string, lo, hi int) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(k)) * fnvPrime
	for i := 0; i < lo; i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	for i := hi; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return mix(h)
}

// deletions calls f with the hash, as kind k, of each distinct one-character deletion of s.
func deletions(k keyKind, s string, f func(h uint64)) {
	prevLo, prevHi := -1, -1
	for lo := 0; lo < len(s); {
		_, size := utf8.DecodeRuneInString(s[lo:])
		hi := lo + size
		// Deleting either of two equal neighbours gives the same string: hash it once.
		if prevLo < 0 || s[prevLo:prevHi] != s[lo:hi] {
			f(hashSkip(k, s, lo, hi))
		}
		prevLo, prevHi = lo, hi
		lo = hi
	}
}
