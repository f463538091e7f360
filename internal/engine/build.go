package engine

import (
	"runtime"
	"sync"

	"github.com/rcptguard/rcptguard/internal/confusables"
)

// Building the index on all CPUs. The keys are made in rounds: in each round every worker
// hashes its share of the next candidates and groups into one buffer per region of the
// table (a region is a range of slots, one per worker), then every worker inserts the
// keys homed in its own region, taking the buffers in the order of the keys. So no two
// workers write the same slot, and equal keys end up side by side in the same order as a
// sequential build would leave them: lookups return the same ids in the same order. A key
// whose probe runs past the end of its region is kept aside and inserted at the end.

// roundItems is how many names or groups one worker hashes in a round: enough to keep the
// workers busy between two waits, few enough that the buffers stay small (about 3 MB).
const roundItems = 1 << 14

// key is one key of the index with its id.
type key struct {
	h  uint64
	id uint32
}

// countKeys is the number of keys fillIndex inserts.
func (e *Engine) countKeys() int {
	n := len(e.cands)
	for _, g := range e.groups {
		n += 1 + countDeletions(g.pre)
		if confusables.Skeleton(g.pre) != g.pre {
			n++
		}
	}
	return n
}

// groupKeys appends the keys of group g (its label part, with hash nearHash, each of its
// deletions and its skeleton) to the buffers of their regions.
func groupKeys(bufs [][]key, pre string, nearHash uint64, g uint32, region func(uint64) int) {
	add := func(h uint64) {
		r := region(h)
		bufs[r] = append(bufs[r], key{h, g})
	}
	add(nearHash)
	deletions(kindNear, pre, add)
	if sk := confusables.Skeleton(pre); sk != pre {
		add(hashKey(kindSkel, sk))
	}
}

// fillIndex inserts every key into ix: each candidate's name (nameHash[i] is the hash of
// candidate i's), then each group's label part (nearHash[g]), deletions and skeleton.
func (e *Engine) fillIndex(ix *index, nameHash, nearHash []uint64) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if len(ix.slots) < 1<<16 {
		workers = 1
	}
	// Slot j is in region j*workers/len(slots); region r starts at the first slot in it.
	bits := 64 - ix.shift
	region := func(h uint64) int { return int((h >> ix.shift) * uint64(workers) >> bits) }
	start := func(r int) uint64 { return (uint64(r)<<bits + uint64(workers) - 1) / uint64(workers) }
	ins := make([]inserter, workers)
	for r := range ins {
		ins[r] = inserter{ix: ix, hi: start(r + 1), wrap: workers == 1}
	}
	bufs := make([][][]key, workers) // bufs[worker][region]
	for w := range bufs {
		bufs[w] = make([][]key, workers)
	}

	items := len(e.cands) + len(e.groups)
	var wg sync.WaitGroup
	for first := 0; first < items; first += workers * roundItems {
		for w := range workers {
			lo := min(items, first+w*roundItems)
			hi := min(items, lo+roundItems)
			wg.Go(func() {
				b := bufs[w]
				for r := range b {
					b[r] = b[r][:0]
				}
				for i := lo; i < hi; i++ {
					if i < len(e.cands) {
						h := nameHash[i]
						b[region(h)] = append(b[region(h)], key{h, uint32(i)})
						continue
					}
					g := i - len(e.cands)
					groupKeys(b, e.groups[g].pre, nearHash[g], uint32(g), region)
				}
			})
		}
		wg.Wait()
		for r := range ins {
			wg.Go(func() {
				for w := range bufs {
					ins[r].insert(bufs[w][r])
				}
			})
		}
		wg.Wait()
	}
	var sink uint32
	for r := range ins {
		ins[r].wrap = true
		ins[r].hi = uint64(len(ix.slots))
		for _, k := range ins[r].overflow {
			ins[r].put(k)
		}
		sink += ins[r].sink
	}
	ix.sink = sink
}

// inserter inserts the keys homed in one region of an index, which ends before slot hi.
// Keys are inserted in small batches whose first slots are touched first, so that their
// cache misses overlap instead of coming one after another.
type inserter struct {
	ix       *index
	hi       uint64
	wrap     bool  // probe past hi to the start of the table; else keep the key aside
	overflow []key // keys whose probe ran past hi
	hs       [touchBatch]uint64
	sink     uint32
}

func (in *inserter) insert(keys []key) {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), len(in.hs))]
		keys = keys[len(batch):]
		for i, k := range batch {
			in.hs[i] = k.h
		}
		in.sink += in.ix.touch(in.hs[:len(batch)])
		for _, k := range batch {
			in.put(k)
		}
	}
}

func (in *inserter) put(k key) {
	ix := in.ix
	for j := k.h >> ix.shift; ; j++ {
		if j == in.hi {
			if !in.wrap {
				in.overflow = append(in.overflow, k)
				return
			}
			j = 0
		}
		if ix.slots[j] == 0 {
			ix.slots[j] = ix.fingerprint(k.h) | (k.id + 1)
			return
		}
	}
}
