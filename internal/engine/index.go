package engine

import (
	"math/bits"
	"unicode/utf8"
)

// The index maps hashed keys to candidate ids. Keys are a kind byte plus a string: a
// candidate's full name, its label part together with each one-character deletion of it
// (the deletion neighbourhood: two strings within one edit share a key), and its visual
// skeleton.
//
// It is an open-addressing hash table of 4-byte slots, probed linearly, so a lookup
// usually touches one cache line, and a million candidates with eleven keys each take
// 64 MB and no pointers. A slot holds 1 + the id in its low bits (as few as the ids need;
// 0 is an empty slot) and a fingerprint of the hash in the bits above. Every hit is
// verified against the candidate itself, so a fingerprint collision costs time, never a
// wrong answer. Equal keys of different candidates sit side by side, in the order they
// were inserted.
//
// Name keys hold candidate ids and the other kinds group ids. Bit 31 of every hash says
// which (clear for a name), and it is always part of the fingerprint, so that a lookup of
// one kind never returns an id of the other.

type keyKind byte

const (
	kindName keyKind = iota + 1 // the full ASCII name
	kindNear                    // the label part, and each one-character deletion of it
	kindSkel                    // the visual skeleton of the label part
)

// groupBit is the bit of a hash that is set for the keys whose ids are group ids.
const groupBit = 1 << 31

type index struct {
	shift  uint
	mask   uint64 // len(slots) - 1
	idMask uint32 // the bits of a slot that hold 1 + the id
	slots  []uint32
	sink   uint32 // keeps the prefetching loads of the build alive
}

// maxIDs is the number of distinct ids an index can hold: the fingerprint keeps at least
// groupBit.
const maxIDs = groupBit - 1

// newIndex makes an empty index sized for keys keys, whose ids are below ids (at most
// maxIDs).
func newIndex(keys, ids int) index {
	b := uint(4)
	for float64(uint64(1)<<b)*0.72 < float64(keys) && b < 32 {
		b++
	}
	return index{
		shift:  64 - b,
		mask:   1<<b - 1,
		idMask: 1<<bits.Len32(uint32(ids)) - 1,
		slots:  make([]uint32, 1<<b),
	}
}

// fingerprint is the part of a slot that comes from the hash.
func (ix *index) fingerprint(h uint64) uint32 { return uint32(h) &^ ix.idMask }

// touch loads the first slot of each hash, so that the cache misses of several lookups
// overlap; the result means nothing but keeps the loads from being optimised away.
func (ix *index) touch(hs []uint64) uint32 {
	if len(ix.slots) == 0 {
		return 0
	}
	var x uint32
	for _, h := range hs {
		x += ix.slots[h>>ix.shift]
	}
	return x
}

// lookup calls f for every id stored under hash h, until f returns false.
func (ix *index) lookup(h uint64, f func(id uint32) bool) {
	if len(ix.slots) == 0 {
		return
	}
	fp := ix.fingerprint(h)
	for j := h >> ix.shift; ; j = (j + 1) & ix.mask {
		s := ix.slots[j]
		if s == 0 {
			return
		}
		if s&^ix.idMask == fp && !f(s&ix.idMask-1) {
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

// finish mixes h and sets groupBit for the kinds whose ids are group ids.
func finish(k keyKind, h uint64) uint64 {
	if h = mix(h); k == kindName {
		return h &^ groupBit
	}
	return h | groupBit
}

func hashKey(k keyKind, s string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(k)) * fnvPrime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return finish(k, h)
}

// deletions calls f with the hash, as kind k, of each distinct one-character deletion of s.
// The hash of the part before the deletion is carried forward, so each deletion costs only
// the bytes after it.
func deletions(k keyKind, s string, f func(h uint64)) {
	prefix := (uint64(fnvOffset) ^ uint64(k)) * fnvPrime
	prevLo, prevHi := -1, -1
	for lo := 0; lo < len(s); {
		hi := lo + runeSize(s, lo)
		// Deleting either of two equal neighbours gives the same string: hash it once.
		if prevLo < 0 || s[prevLo:prevHi] != s[lo:hi] {
			h := prefix
			for i := hi; i < len(s); i++ {
				h = (h ^ uint64(s[i])) * fnvPrime
			}
			f(finish(k, h))
		}
		for i := lo; i < hi; i++ {
			prefix = (prefix ^ uint64(s[i])) * fnvPrime
		}
		prevLo, prevHi = lo, hi
		lo = hi
	}
}

// countDeletions is the number of hashes deletions(k, s, f) makes, without making them.
func countDeletions(s string) int {
	n := 0
	prevLo, prevHi := -1, -1
	for lo := 0; lo < len(s); {
		hi := lo + runeSize(s, lo)
		if prevLo < 0 || s[prevLo:prevHi] != s[lo:hi] {
			n++
		}
		prevLo, prevHi = lo, hi
		lo = hi
	}
	return n
}

// runeSize is the length of the character at s[i:].
func runeSize(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return size
}
